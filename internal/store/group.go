package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// groupWriter owns the write connections: one on SQLite (its only writer), a few on
// PostgreSQL. Work queued while a commit is in flight joins the next batch; in a batch
// of several, each piece runs in its own savepoint so that a piece that fails (a
// unique key, a validation error, a panic) rolls back alone. A batch of one needs no
// savepoint: its failure rolls back the transaction. Every caller is answered only
// after the batch's COMMIT has returned.
type groupWriter struct {
	db       *sql.DB
	reqs     chan *writeReq
	quit     chan struct{}
	done     chan struct{}
	maxBatch int
	release  bool // RELEASE each savepoint (SQLite); PostgreSQL keeps them and saves a round trip
	once     sync.Once
}

type writeReq struct {
	ctx  context.Context
	fn   func(context.Context, Tx) error
	err  error // the piece's own result, before commit
	done chan error
}

func newGroupWriter(db *sql.DB, maxBatch, writers int) *groupWriter {
	if maxBatch <= 0 {
		maxBatch = 128
	}
	g := &groupWriter{
		db:       db,
		reqs:     make(chan *writeReq),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		maxBatch: maxBatch,
	}
	var wg sync.WaitGroup
	for range max(writers, 1) {
		wg.Go(g.loop)
	}
	go func() { wg.Wait(); close(g.done) }()
	return g
}

func (g *groupWriter) do(ctx context.Context, fn func(context.Context, Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.reqs <- r:
	case <-g.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the outcome is decided by the commit; waiting for it is the only
	// way to tell the caller truthfully whether the write happened.
	return <-r.done
}

func (g *groupWriter) close() {
	g.once.Do(func() { close(g.quit) })
	<-g.done
}

func (g *groupWriter) loop() {
	batch := make([]*writeReq, 0, g.maxBatch)
	for {
		select {
		case r := <-g.reqs:
			batch = append(batch[:0], r)
		case <-g.quit:
			return
		}
	fill:
		for len(batch) < g.maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		g.commit(batch)
	}
}

func (g *groupWriter) commit(batch []*writeReq) {
	fail := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	tx, err := g.db.BeginTx(context.Background(), nil)
	if err != nil {
		fail(Classify(err))
		return
	}
	if len(batch) == 1 {
		r := batch[0]
		if err := r.ctx.Err(); err != nil {
			tx.Rollback()
			r.done <- err
			return
		}
		if err := runGuarded(r.ctx, tx, r.fn); err != nil {
			tx.Rollback()
			r.done <- Classify(err)
			return
		}
		r.done <- Classify(tx.Commit())
		return
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			tx.Rollback()
			fail(Classify(err))
			return
		}
		r.err = Classify(runGuarded(r.ctx, tx, r.fn))
		if r.err != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				// SQLite rolled the whole transaction back (I/O error, full disk):
				// nothing of this batch can be kept.
				tx.Rollback()
				fail(Classify(fmt.Errorf("%w (while undoing a failed write: %v)", err, r.err)))
				return
			}
		}
		if !g.release {
			continue
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			tx.Rollback()
			fail(Classify(err))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(Classify(err))
		return
	}
	for _, r := range batch {
		r.done <- r.err
	}
}

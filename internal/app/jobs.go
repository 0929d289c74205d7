package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"tillit/internal/jobs"
	"tillit/internal/store"
	"tillit/internal/web"
)

// jobView is a job as the API and CLI show it.
type jobView struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Args        json.RawMessage `json:"args"`
	State       string          `json:"state"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"max_attempts"`
	RunAt       time.Time       `json:"run_at"`
	CreatedAt   time.Time       `json:"created_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
}

func viewJob(j jobs.Job) jobView {
	return jobView{ID: j.ID, Kind: j.Kind, Args: j.Args, State: j.State, Attempt: j.Attempt, MaxAttempts: j.MaxAttempts,
		RunAt: j.RunAt, CreatedAt: j.CreatedAt, FinishedAt: j.FinishedAt, LastError: j.LastError}
}

var jobStates = []string{jobs.StateAvailable, jobs.StateRunning, jobs.StateCompleted, jobs.StateFailed, jobs.StateCancelled}

// newQueue builds the job queue with the platform's own periodic work registered.
func newQueue(e *env, idem *web.Idempotency) *jobs.Queue {
	q := jobs.New(e.st, jobs.Options{Logger: e.log})
	q.Register(kindPurgeIdempotency, func(ctx context.Context, _ jobs.Job) error {
		_, err := idem.Purge(ctx)
		return err
	})
	q.Periodic(kindPurgeIdempotency, time.Hour, nil)
	return q
}

const kindPurgeIdempotency = "api.purge-idempotency-keys"

func (s *server) listJobs(w http.ResponseWriter, r *http.Request) error {
	after, limit, err := web.PageParams(r)
	if err != nil {
		return err
	}
	state := r.URL.Query().Get("state")
	if state != "" && !validState(state) {
		return &web.Error{Status: 400, Type: "bad-parameter", Title: "Bad Request",
			Detail: fmt.Sprintf("state must be one of %v.", jobStates), Errors: []web.FieldError{{Pointer: "?state", Message: "unknown state"}}}
	}
	list, _, err := s.jobs.List(r.Context(), jobs.Filter{State: state, Kind: r.URL.Query().Get("kind"), After: after, Limit: limit + 1})
	if err != nil {
		return err
	}
	views := make([]jobView, len(list))
	for i, j := range list {
		views[i] = viewJob(j)
	}
	return web.WriteJSON(w, http.StatusOK, web.NewPage(views, limit, func(j jobView) string { return j.ID }))
}

func validState(s string) bool {
	for _, v := range jobStates {
		if s == v {
			return true
		}
	}
	return false
}

// jobAction runs retry or cancel and answers with the job as it is afterwards.
func (s *server) jobAction(action func(context.Context, string) error) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := r.PathValue("id")
		err := action(r.Context(), id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return web.Errorf(http.StatusNotFound, "not-found", "No job with that id.")
		case errors.Is(err, jobs.ErrWrongState):
			return &web.Error{Status: http.StatusConflict, Type: "wrong-state", Title: "Conflict",
				Detail: "The job's state does not allow that (retry needs a failed job; a completed job cannot be cancelled).", Err: err}
		case err != nil:
			return err
		}
		j, err := s.jobs.Get(r.Context(), id)
		if err != nil {
			return err
		}
		return web.WriteJSON(w, http.StatusOK, viewJob(j))
	}
}

func runJobs(ctx context.Context, io IO, args []string) error {
	sub, rest, err := subcommand(io, "jobs", "jobs list|retry|cancel [flags]", args, "list", "retry", "cancel")
	if err != nil {
		return err
	}
	var state, kind string
	extra := func(fs *flag.FlagSet) {
		if sub == "list" {
			fs.StringVar(&state, "state", "", "only jobs in this state: available, running, completed, failed, cancelled")
			fs.StringVar(&kind, "kind", "", "only jobs of this kind")
		}
	}
	synopsis := map[string]string{"list": "jobs list [--state STATE] [--kind KIND] [flags]",
		"retry": "jobs retry [flags] ID", "cancel": "jobs cancel [flags] ID"}[sub]
	e, pos, err := openCommand(ctx, io, "jobs "+sub, synopsis, rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	if state != "" && !validState(state) {
		return usagef("--state: %q is not one of %v", state, jobStates)
	}
	q := jobs.New(e.st, jobs.Options{Retention: -1})
	if sub == "list" {
		tw := tabwriter.NewWriter(io.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tSTATE\tATTEMPT\tRUN AT\tLAST ERROR")
		cursor := ""
		for {
			list, next, err := q.List(ctx, jobs.Filter{State: state, Kind: kind, After: cursor, Limit: 500})
			if err != nil {
				return err
			}
			for _, j := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
					j.RunAt.Format(time.RFC3339), j.LastError)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		return tw.Flush()
	}
	if len(pos) != 1 {
		return usagef("want exactly one job ID")
	}
	act := q.Retry
	if sub == "cancel" {
		act = q.Cancel
	}
	switch err := act(ctx, pos[0]); {
	case errors.Is(err, store.ErrNotFound):
		return negativef("no job %s", pos[0])
	case errors.Is(err, jobs.ErrWrongState):
		return negativef("%v", err)
	case err != nil:
		return err
	}
	fmt.Fprintf(io.Stdout, "%s: %s done\n", pos[0], sub)
	return nil
}

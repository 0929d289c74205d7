package app

import (
	"context"
	"flag"
	"fmt"

	"tillit/internal/security"
)

// runKeys is `tillit keys rotate --new-key FILE`: re-wraps every data key under a new
// master key while servers keep running (see docs/operations.md for the procedure).
func runKeys(ctx context.Context, io IO, args []string) error {
	_, rest, err := subcommand(io, "keys", "keys rotate --new-key FILE [flags]", args, "rotate")
	if err != nil {
		return err
	}
	var newKeyFile string
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&newKeyFile, "new-key", "", "file of the new master key; generated (mode 0600) when it does not exist (required)")
	}
	e, _, err := openCommand(ctx, io, "keys rotate", "keys rotate --new-key FILE [flags]", rest, extra)
	if err != nil {
		return err
	}
	defer e.close()
	if newKeyFile == "" {
		return usagef("--new-key is required")
	}
	newKey, created, err := security.LoadOrCreateMasterKey(newKeyFile, true)
	if err != nil {
		return usagef("--new-key: %v", err)
	}
	if created {
		fmt.Fprintf(io.Stderr, "generated a new master key in %s\n", newKeyFile)
	}
	last := -1
	err = e.ks.Rotate(ctx, newKey, func(done, total int) {
		if pct := done * 100 / max(total, 1); pct/10 != last/10 || done == total {
			last = pct
			fmt.Fprintf(io.Stderr, "re-wrapped %d of %d keys (%d%%)\n", done, total, pct)
		}
	})
	if err != nil {
		return fmt.Errorf("rotation stopped (run the same command again to resume): %w", err)
	}
	if err := setMeta(ctx, e.st, metaKeyFingerprint, newKey.Fingerprint()); err != nil {
		return err
	}
	fmt.Fprintf(io.Stdout, "Every key is now wrapped by %s.\n"+
		"Restart each tillit process with --master-key-file %s and --previous-master-key-file %s,\n"+
		"run tillit keys rotate --new-key %s once more to catch keys made meanwhile, then remove the old key.\n",
		newKeyFile, newKeyFile, e.cfg.KeyFile(), newKeyFile)
	return nil
}

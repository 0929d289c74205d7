# The README's two commands are `go run ./cmd/tillit serve --demo` and `make test`.
.PHONY: test bench bench-smoke build fuzz

build:
	go build -o bin/tillit ./cmd/tillit

test:
	scripts/test

# Benchmarks compare against a baseline measured in the same run (see bench/README.md).
bench:
	scripts/bench

# What CI runs: every benchmark once, as a smoke test, never as a timed gate.
bench-smoke:
	scripts/bench -benchtime=1x

fuzz:
	scripts/fuzz

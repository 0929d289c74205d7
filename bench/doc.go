// Package bench holds Tillit's end-to-end benchmarks. Each one measures the real
// server (the tillit binary, started as a subprocess on loopback) beside a baseline
// measured in the same run: a bare net/http handler of the same shape, or the raw
// durable commit rate of the same database engine. These machines are noisy, so the
// ratio is the figure to watch; absolute figures are reported beside it. Nothing here
// asserts a timing: CI runs every benchmark once (scripts/bench -benchtime=1x) as a
// smoke test. See README.md for what each benchmark measures and its target.
package bench

// Command tillit is the whole of Tillit in one binary; see `tillit --help`.
package main

import (
	"os"

	"tillit/internal/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], app.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}

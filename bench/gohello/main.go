// Command gohello is golos-bench's smallest Go program (built with CGO_ENABLED=0): its
// start to exit natively is the yardstick for golos's own start, since golos is a Go
// program of that kind and starts the Go runtime before the program it runs.
package main

import "fmt"

func main() {
	fmt.Printf("hello %d\n", 42)
}

// Command scheddeadlock reproduces the hang of the Go backend's parallel op scheduler (compute v0.1.2 and
// v0.1.3): a graph with several independent matmuls, executed with GOMLX_BACKEND=go:ops_parallel. See
// docs/BENCH.md ("The parallel scheduler deadlock").
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go:ops_parallel go run ./bench/scheddeadlock              # hangs
//	GOEXPERIMENT=simd GOMLX_BACKEND=go:ops_parallel,parallelism=-1 go run ./bench/scheddeadlock  # finishes
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	_ "github.com/gomlx/gomlx/backends/default"
)

func main() {
	n := flag.Int("matmuls", 8, "independent matmuls in the graph")
	size := flag.Int("size", 256, "side of the square matrices")
	runs := flag.Int("runs", 20, "executions")
	timeout := flag.Duration("timeout", 30*time.Second, "report a hang after this long")
	flag.Parse()

	backend, err := compute.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("backend %s, GOMAXPROCS %d, %d independent %dx%d matmuls per execution\n",
		backend.Description(), runtime.GOMAXPROCS(0), *n, *size, *size)
	exec := MustNewExec(backend, func(x *Node) *Node {
		var sum *Node
		for i := range *n {
			y := MatMul(AddScalar(x, float64(i)), x) // independent: each has its own left operand
			if sum == nil {
				sum = y
			} else {
				sum = Add(sum, y)
			}
		}
		return ReduceAllSum(sum)
	})
	data := make([]float32, *size**size)
	for i := range data {
		data[i] = float32(i%7) / 7
	}
	x := tensors.FromFlatDataAndDimensions(data, *size, *size)
	done := make(chan struct{})
	go func() {
		for i := range *runs {
			exec.MustExec(x)[0].MustFinalizeAll()
			fmt.Printf("run %d ok\n", i+1)
		}
		close(done)
	}()
	select {
	case <-done:
		fmt.Println("finished: no deadlock")
	case <-time.After(*timeout):
		fmt.Printf("HANG: no progress for %s (deadlock in the backend's worker pool)\n", *timeout)
		os.Exit(1)
	}
}

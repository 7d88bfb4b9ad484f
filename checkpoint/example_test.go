package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/checkpoint"
	"github.com/recur-ml/recur/tensor"
)

func Example() {
	dir, err := os.MkdirTemp("", "ckpt")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	f := checkpoint.New()
	f.Tensors["head.weight"] = tensor.FromSlice([]float32{0.5, -1, 2}, 1, 3)
	if err := f.SetJSON("metrics", map[string]float64{"rmse": 21.5}); err != nil {
		log.Fatal(err)
	}
	if err := checkpoint.Write(path, f); err != nil {
		log.Fatal(err)
	}

	g, err := checkpoint.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	var m map[string]float64
	if _, err := g.GetJSON("metrics", &m); err != nil {
		log.Fatal(err)
	}
	fmt.Println(g.Names(), g.Tensors["head.weight"].Shape, g.Tensors["head.weight"].Data)
	fmt.Println("format", g.Metadata[checkpoint.MetaFormat], "rmse", m["rmse"])
	// Output:
	// [head.weight] [1 3] [0.5 -1 2]
	// format 1 rmse 21.5
}

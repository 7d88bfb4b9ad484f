// Command quant prints the test accuracy of row-MNIST classifiers (model
// files, float32 or int8), which recur eval cannot score because it does
// not read MNIST's IDX files: the accuracy half of BENCHMARKS.md's int8
// section.
//
//	recur train --config recipes/mnist-row.yaml --data DIR --epochs 3 --out mnist
//	recur quantize mnist
//	go run ./bench/quant DIR mnist/model.safetensors mnist/model.int8.safetensors
//
// DIR holds MNIST's IDX files; the t10k images and labels are the test set.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/recur-ml/recur/data/dataset"
	"github.com/recur-ml/recur/model"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "quant:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("usage: quant MNIST-DIR MODEL...")
	}
	dir := args[0]
	m, err := dataset.LoadMNIST(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		return err
	}
	rows, cols := m.Images.Shape[1], m.Images.Shape[2]
	s := &model.SeqSet{Inputs: cols, Labels: m.Labels, Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	for i := range m.Len() {
		s.X = append(s.X, m.Images.Data[i*rows*cols:(i+1)*rows*cols])
	}
	for _, p := range args[1:] {
		c, err := model.LoadClassifier(p)
		if err != nil {
			return err
		}
		e, err := c.EvaluateSequences(s)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		q := c.Spec().Quantize
		if q == "" {
			q = "float32"
		}
		fmt.Printf("%s (%s): test accuracy %.4f, loss %.4f, %d images\n", p, q, e.Accuracy, e.Loss, m.Len())
	}
	return nil
}

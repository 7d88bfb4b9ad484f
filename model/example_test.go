package model_test

import (
	"fmt"
	"log"

	"github.com/recur-ml/recur/model"
)

func ExampleParseSpec() {
	spec, err := model.ParseSpec("model.yaml", []byte(`
task: classify
vocab: 5000
embed: 64
hidden: 128
bidirectional: true
classes: 2
pool: max
`))
	if err != nil {
		log.Fatal(err)
	}
	m, err := model.Build(spec, 1)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range m.Params()[:3] {
		fmt.Println(p.Name, p.Value.Shape)
	}
	fmt.Println(m.NumParams(), "parameters")

	_, err = model.ParseSpec("model.yaml", []byte("task: classify\nhiden: 3\n"))
	fmt.Println(err)
	// Output:
	// embedding.weight [5000 64]
	// rnn.weight_ih_l0 [512 64]
	// rnn.weight_hh_l0 [512 128]
	// 519170 parameters
	// model.yaml: yaml: unmarshal errors:
	//   line 2: field hiden not found in type model.Spec
}

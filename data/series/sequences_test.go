package series

import (
	"strings"
	"testing"
)

func TestReadSequences(t *testing.T) {
	wide := "label,t1,t2,t3\nup,1,2,3\ndown,3,2,1\n"
	s, err := ReadSequences(strings.NewReader(wide), "w.csv", SequenceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Inputs != 1 || len(s.X) != 2 || s.X[1][0] != 3 || s.Classes[0] != "down" || s.Labels[0] != 1 {
		t.Errorf("wide: %+v", s)
	}
	long := "id,a,b,class\nx,1,2,10\nx,3,4,10\ny,5,6,2\n"
	s, err = ReadSequences(strings.NewReader(long), "l.csv", SequenceConfig{Label: "class", ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Inputs != 2 || len(s.X) != 2 || len(s.X[0]) != 4 || s.X[0][2] != 3 || s.Classes[0] != "2" || s.Labels[0] != 1 || s.Columns[1] != "b" {
		t.Errorf("long: %+v", s)
	}
	s, err = ReadSequences(strings.NewReader("id,v,flag\nx,1,ok\nx,9,bad\ny,2,ok\n"), "t.csv", SequenceConfig{Label: "flag", ID: "id", PerStep: true})
	if err != nil || len(s.StepLabels) != 2 || s.StepLabels[0][1] != 0 || s.StepLabels[0][0] != 1 || s.Classes[0] != "bad" {
		t.Errorf("per step: %+v %v", s, err)
	}
	for _, c := range []struct{ text, cfgID, want string }{
		{"label,a\nup,x\n", "", `e.csv:2: column "a": "x" is not a number`},
		{"a,b\n1,2\n", "", `no label column "label"`},
		{"id,a,label\nx,1,p\ny,2,q\nx,3,p\n", "id", `e.csv:4: column "id": "x" sequence started on line 2 and is not contiguous`},
		{"id,a,label\nx,1,p\nx,2,q\n", "id", `sequence "x" changes class`},
		{"label,a\n", "", "no sequences"},
	} {
		if _, err := ReadSequences(strings.NewReader(c.text), "e.csv", SequenceConfig{ID: c.cfgID}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}

func FuzzReadSequences(f *testing.F) {
	f.Add("label,t1,t2\na,1,2\nb,3,4\n", "")
	f.Add("id,a,label\nx,1,p\nx,2,p\n", "id")
	f.Fuzz(func(t *testing.T, text, id string) {
		s, err := ReadSequences(strings.NewReader(text), "f.csv", SequenceConfig{ID: id})
		if err != nil {
			return
		}
		for n, x := range s.X {
			if len(x)%s.Inputs != 0 || s.Labels[n] < 0 || s.Labels[n] >= len(s.Classes) {
				t.Fatalf("sequence %d: %d values for %d inputs, label %d of %d classes", n, len(x), s.Inputs, s.Labels[n], len(s.Classes))
			}
		}
	})
}

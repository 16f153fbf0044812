package linearizable

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// Visualize writes porcupine's HTML view of the history to path: one
// panel per key, each request drawn on its client's row (an unknown one
// open to the end), the longest linearization found with the key's state
// after each step, and the annotations as rows of their own (crashes,
// partitions, pauses). It searches without a time limit, so call it on a
// history that Check has already judged.
func Visualize(ops []Op, path string, annotations []Annotation) error {
	return VisualizeAfter(nil, ops, path, annotations)
}

// VisualizeAfter is Visualize of the rest of a history after the prefix p
// (see CheckAfter): each key the prefix wrote opens with its carried states.
func VisualizeAfter(p *Prefix, ops []Op, path string, annotations []Annotation) error {
	_, err := visualize(p, ops, path, annotations, 0)
	return err
}

// VisualizeWithin is Visualize with porcupine's search limited to timeout
// (0: none): when it runs out, the picture shows the longest partial
// linearizations found by then, and complete is false.
func VisualizeWithin(ops []Op, path string, annotations []Annotation, timeout time.Duration) (complete bool, err error) {
	return visualize(nil, ops, path, annotations, timeout)
}

func visualize(p *Prefix, ops []Op, path string, annotations []Annotation, timeout time.Duration) (bool, error) {
	h := prepare(p, ops)
	h.buildAll()
	model := kvModel(true)
	res, info := porcupine.CheckOperationsVerbose(model, flatten(h.parts), timeout)
	as := make([]porcupine.Annotation, len(annotations))
	for i, a := range annotations {
		as[i] = porcupine.Annotation{Tag: a.Tag, Start: a.Start, End: a.End, Description: a.Description}
	}
	info.AddAnnotations(as)
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return false, fmt.Errorf("linearizable: %w", err)
	}
	return res != porcupine.Unknown, nil
}

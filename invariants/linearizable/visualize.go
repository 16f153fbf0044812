package linearizable

import (
	"fmt"

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
	h := prepare(p, ops)
	model := kvModel(true)
	_, info := porcupine.CheckOperationsVerbose(model, flatten(h.parts), 0)
	as := make([]porcupine.Annotation, len(annotations))
	for i, a := range annotations {
		as[i] = porcupine.Annotation{Tag: a.Tag, Start: a.Start, End: a.End, Description: a.Description}
	}
	info.AddAnnotations(as)
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return fmt.Errorf("linearizable: %w", err)
	}
	return nil
}

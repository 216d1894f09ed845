package neu

import (
	"sort"
	"strings"
)

// Classes are the six NEU-DET defect classes; a class index is a position in this slice.
var Classes = []string{"crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"}

// ClassIndex returns the index of a class name in Classes, or -1 when unknown.
// Case and surrounding spaces are ignored ("Crazing " -> 0) since hand-edited XMLs vary.
func ClassIndex(name string) int {
	name = strings.ToLower(strings.TrimSpace(name))
	for i, c := range Classes {
		if c == name {
			return i
		}
	}
	return -1
}

// classesByLength lists class indexes longest name first so that a prefix match picks the most specific class.
var classesByLength = func() []int {
	idx := make([]int, len(Classes))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return len(Classes[idx[a]]) > len(Classes[idx[b]]) })
	return idx
}()

// LabelFromName returns the class index encoded as a prefix of a file's base name (without extension),
// as in NEU-DET's "<class>_<n>" ("crazing_12", "rolled-in_scale_3"), or -1 when the name starts with no class.
// The class must be followed by the end of the name or a non-letter ("crazing-1", "crazing 1", "crazing1").
func LabelFromName(stem string) int {
	s := strings.ToLower(stem)
	for _, i := range classesByLength {
		c := Classes[i]
		if !strings.HasPrefix(s, c) {
			continue
		}
		if len(s) == len(c) {
			return i
		}
		next := s[len(c)]
		if next < 'a' || next > 'z' {
			return i
		}
	}
	return -1
}

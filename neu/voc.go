package neu

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Box is one labelled bounding box.
type Box struct {
	Class int // index in the dataset's class list (Classes for NEU-DET)
	// Rect is in 0-based pixel coordinates, Min inclusive, Max exclusive. VOC's 1-based inclusive
	// (xmin,ymin,xmax,ymax) becomes image.Rect(xmin-1, ymin-1, xmax, ymax).
	Rect      image.Rectangle
	Difficult bool
	Truncated bool
}

// Annotation is one parsed Pascal-VOC XML file.
type Annotation struct {
	Folder   string // <folder>; in NEU-DET a class code such as "cr", not a folder
	Filename string // <filename> as written; NEU-DET sometimes omits ".jpg"
	// Width, Height and Depth are the XML's <size>; 0 when missing or not a number.
	Width, Height, Depth int
	// Boxes are the usable boxes in file order: exact duplicates removed, clipped to the image,
	// boxes of any known class kept (an image may hold boxes of classes other than its own).
	Boxes []Box
	// Duplicates counts exact duplicate boxes that were removed (a known NEU-DET anomaly; not a problem).
	Duplicates int
	// Problems describes, one line each, boxes that were dropped or clipped and a size that disagrees
	// with the image.
	Problems []string
}

// vocXML mirrors the VOC layout; numbers are strings so that one bad value drops one box, not the file.
type vocXML struct {
	XMLName  xml.Name `xml:"annotation"`
	Folder   string   `xml:"folder"`
	Filename string   `xml:"filename"`
	Size     struct {
		Width  string `xml:"width"`
		Height string `xml:"height"`
		Depth  string `xml:"depth"`
	} `xml:"size"`
	Objects []struct {
		Name      string `xml:"name"`
		Truncated string `xml:"truncated"`
		Difficult string `xml:"difficult"`
		BndBox    *struct {
			Xmin string `xml:"xmin"`
			Ymin string `xml:"ymin"`
			Xmax string `xml:"xmax"`
			Ymax string `xml:"ymax"`
		} `xml:"bndbox"`
	} `xml:"object"`
}

// ErrNoObjects is returned (wrapped) by ParseVOC for a well-formed annotation without any <object>.
var ErrNoObjects = errors.New("annotation has no <object> elements")

// ParseVOC parses a Pascal-VOC annotation.
//
// imageSize is the real size of the image, used to clip boxes; when it is zero the XML's <size> is used,
// and when that is missing too boxes are not clipped. Indentation (tabs or spaces), CRLF line endings,
// a UTF-8 BOM and Latin-1 encodings are accepted.
//
// It returns an error for malformed XML, a root element other than <annotation>, or no <object> at all.
// Bad boxes (unknown class name, missing or non-numeric coordinates, inverted xmin > xmax, outside the
// image) are dropped, or clipped when part of them is inside, and listed in Problems.
func ParseVOC(data []byte, imageSize image.Point) (*Annotation, error) {
	return ParseVOCClasses(data, imageSize, Classes)
}

// ParseVOCClasses is ParseVOC with the box classes looked up in classes (ClassIndexIn) instead of NEU's.
func ParseVOCClasses(data []byte, imageSize image.Point, classes []string) (*Annotation, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty annotation file")
	}
	var v vocXML
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&v); err != nil {
		var unexpected xml.UnmarshalError
		if errors.As(err, &unexpected) {
			return nil, fmt.Errorf("not a Pascal-VOC annotation: %v", err)
		}
		if err == io.EOF {
			return nil, errors.New("malformed XML: no root element")
		}
		return nil, fmt.Errorf("malformed XML: %v", err)
	}
	a := &Annotation{
		Folder:   strings.TrimSpace(v.Folder),
		Filename: strings.TrimSpace(v.Filename),
		Width:    atoiOrZero(v.Size.Width),
		Height:   atoiOrZero(v.Size.Height),
		Depth:    atoiOrZero(v.Size.Depth),
	}
	if len(v.Objects) == 0 {
		return nil, ErrNoObjects
	}

	bounds := image.Rectangle{}
	switch {
	case imageSize.X > 0 && imageSize.Y > 0:
		bounds = image.Rect(0, 0, imageSize.X, imageSize.Y)
		if (a.Width != 0 || a.Height != 0) && (a.Width != imageSize.X || a.Height != imageSize.Y) {
			a.Problems = append(a.Problems, fmt.Sprintf("<size> %dx%d differs from the image's %dx%d; boxes checked against the image",
				a.Width, a.Height, imageSize.X, imageSize.Y))
		}
	case a.Width > 0 && a.Height > 0:
		bounds = image.Rect(0, 0, a.Width, a.Height)
	}

	type key struct {
		class int
		r     image.Rectangle
	}
	seen := make(map[key]bool)
	for i, o := range v.Objects {
		name := strings.TrimSpace(o.Name)
		where := fmt.Sprintf("object %d (%q)", i+1, truncateString(name, 40))
		class := ClassIndexIn(classes, name)
		if class < 0 {
			a.Problems = append(a.Problems, fmt.Sprintf("%s: unknown class name, box dropped (classes: %s)", where, truncateString(strings.Join(classes, ", "), 200)))
			continue
		}
		if o.BndBox == nil {
			a.Problems = append(a.Problems, where+": no <bndbox>, box dropped")
			continue
		}
		var c [4]int
		bad := ""
		for j, s := range []string{o.BndBox.Xmin, o.BndBox.Ymin, o.BndBox.Xmax, o.BndBox.Ymax} {
			n, ok := parseCoord(s)
			if !ok {
				bad = fmt.Sprintf("%s: %s=%q is not a number, box dropped", where, [4]string{"xmin", "ymin", "xmax", "ymax"}[j], truncateString(strings.TrimSpace(s), 20))
				break
			}
			c[j] = n
		}
		if bad != "" {
			a.Problems = append(a.Problems, bad)
			continue
		}
		coords := fmt.Sprintf("(%d,%d,%d,%d)", c[0], c[1], c[2], c[3])
		if c[0] > c[2] || c[1] > c[3] {
			a.Problems = append(a.Problems, fmt.Sprintf("%s %s: inverted box (xmin > xmax or ymin > ymax), box dropped", where, coords))
			continue
		}
		r := image.Rect(c[0]-1, c[1]-1, c[2], c[3])
		if !bounds.Empty() && !r.In(bounds) {
			clipped := r.Intersect(bounds)
			if clipped.Empty() {
				a.Problems = append(a.Problems, fmt.Sprintf("%s %s: box entirely outside the %dx%d image, box dropped", where, coords, bounds.Dx(), bounds.Dy()))
				continue
			}
			a.Problems = append(a.Problems, fmt.Sprintf("%s %s: box extends outside the %dx%d image, clipped", where, coords, bounds.Dx(), bounds.Dy()))
			r = clipped
		}
		k := key{class, r}
		if seen[k] {
			a.Duplicates++
			continue
		}
		seen[k] = true
		a.Boxes = append(a.Boxes, Box{Class: class, Rect: r, Difficult: flag(o.Difficult), Truncated: flag(o.Truncated)})
	}
	return a, nil
}

// parseCoord accepts integers and, as some VOC exporters write them, decimals (rounded).
// Values are bounded so that later arithmetic cannot overflow.
func parseCoord(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return n, n > -1e9 && n < 1e9
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= 1e9 {
		return 0, false
	}
	return int(math.Round(f)), true
}

func atoiOrZero(s string) int {
	n, ok := parseCoord(s)
	if !ok || n < 0 {
		return 0
	}
	return n
}

// flag reads VOC's 0/1 truncated and difficult fields; anything non-numeric counts as false.
func flag(s string) bool {
	n, ok := parseCoord(s)
	return ok && n != 0
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) && len(s) > 0 {
		s = s[:len(s)-1]
	}
	return s + "..."
}

// charsetReader lets encoding/xml read the single-byte encodings old annotation tools declare.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(charset)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "windows-1252", "cp1252":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		// Latin-1 bytes are the first 256 code points.
		var out strings.Builder
		for _, c := range b {
			out.WriteRune(rune(c))
		}
		return strings.NewReader(out.String()), nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q", charset)
}

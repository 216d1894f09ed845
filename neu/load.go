package neu

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Sample is one image with its label and boxes.
type Sample struct {
	Name           string // base name without extension, e.g. "crazing_12"
	ImagePath      string
	AnnotationPath string // "" when the image has no XML
	// MaskPath is the exact defect mask, masks/NAME.png beside images/ (or the plain folder's masks/), "" when
	// there is none: a gray PNG of the image's size, non-zero on defect pixels. The pixels of class c are the
	// mask's non-zero pixels inside the union of class c's boxes.
	MaskPath string
	// Label is the image's class index in Dataset.Classes: the class its file name starts with (NEU-DET's
	// "crazing_12"), else the class whose boxes cover the largest total area (lowest index on ties); -1 when
	// unknown. Every box is kept with its own class in Boxes.
	Label int
	Boxes []Box       // deduplicated; boxes of other classes kept with their own class; nil without XML
	Group string      // hex SHA-256 of the image file: byte-identical images share it (never straddle splits)
	Size  image.Point // image width and height from its header
}

// Skipped is a file that was not used (in Dataset.Skipped) or was used with a fix (in Dataset.Warnings).
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func (s Skipped) String() string { return s.Path + ": " + s.Reason }

// Dataset is the result of Load/LoadPaths.
type Dataset struct {
	// Classes are the class names that Sample.Label and Box.Class index: the list given to LoadWithClasses, else
	// the dataset's classes.txt, else DiscoverClasses over the annotations' <name> values (NEU's six for NEU-DET).
	Classes  []string
	Samples  []Sample  // in natural name order ("crazing_2" before "crazing_10"), ties by path
	Skipped  []Skipped // files not used, with the reason
	Warnings []Skipped // files used, but boxes were clipped/dropped, the XML was missing, sizes disagree, ...
}

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// otherImageExts are image formats someone may reasonably drop in a folder; they get a precise reason.
var otherImageExts = map[string]bool{".bmp": true, ".tif": true, ".tiff": true, ".gif": true, ".webp": true, ".heic": true}

// Load reads a dataset folder: the NEU-DET layout (dir/images and dir/annotations, searched recursively
// and paired by base name; the folder names are matched case-insensitively, so IMAGES/ANNOTATIONS work too)
// or a plain folder of .jpg/.jpeg/.png images (not recursive), each optionally with a VOC XML of the same
// base name beside it, or a folder per class (dir/CLASS/..., each a plain or VOC folder: the folder names the
// label). Images without annotation have no boxes, and the label from their file-name prefix. dir/masks/NAME.png
// is NAME's exact defect mask, dir/classes.txt its class list (see Dataset.Classes).
//
// Every image header is checked (and files that look truncated are decoded in full); problem files go to
// Skipped. An error is returned only when dir does not exist, is not a folder, cannot be read, or holds no
// images.
func Load(dir string) (*Dataset, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("neu: dataset path %s is a file, not a folder", dir)
	}
	return LoadWithClasses(nil, dir)
}

// LoadPaths loads several folders (as Load) and image files, merged in one Dataset. An image file's XML is
// looked for beside it and, when it sits in an "images" folder, in the sibling "annotations" folder.
// The same image reached twice is used once. An error is returned for no paths or a path that does not
// exist or cannot be read.
func LoadPaths(paths ...string) (*Dataset, error) {
	return LoadWithClasses(nil, paths...)
}

// LoadWithClasses is LoadPaths with a fixed class list, e.g. a trained model's: labels and boxes index classes,
// and boxes naming another class are dropped (listed in Warnings). classes nil: the dataset's own (see
// Dataset.Classes).
func LoadWithClasses(classes []string, paths ...string) (*Dataset, error) {
	if len(paths) == 0 {
		return nil, errors.New("neu: no dataset paths given")
	}
	b := newBuilder()
	b.classes = classes
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, pathError(p, err)
		}
		if st.IsDir() {
			if err := b.addDir(p); err != nil {
				return nil, err
			}
			continue
		}
		ext := strings.ToLower(filepath.Ext(p))
		if !imageExts[ext] {
			b.skip(p, unsupportedReason(ext))
			continue
		}
		b.queue(p, findSidecar(p), findMask(p))
	}
	return b.finish()
}

func pathError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("neu: dataset path %s does not exist", p)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("neu: dataset path %s cannot be read: permission denied", p)
	}
	return fmt.Errorf("neu: dataset path %s cannot be read: %v", p, unwrapPathError(err))
}

func unsupportedReason(ext string) string {
	switch {
	case ext == ".xml":
		return "annotation file given on its own: pass its image or the dataset folder"
	case otherImageExts[ext]:
		return fmt.Sprintf("unsupported image format %s (only JPEG and PNG are read)", ext)
	case ext == "":
		return "no file extension: not a .jpg/.jpeg/.png image"
	}
	return fmt.Sprintf("not an image (extension %s; only .jpg/.jpeg/.png are read)", ext)
}

// findSidecar returns the XML for an image file given on its own, or "".
func findSidecar(img string) string {
	dir, base := filepath.Split(img)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	cands := []string{filepath.Join(dir, stem+".xml")}
	if strings.EqualFold(filepath.Base(filepath.Clean(dir)), "images") {
		if ann := findChildFold(filepath.Dir(filepath.Clean(dir)), "annotations"); ann != "" {
			cands = append(cands, filepath.Join(ann, stem+".xml"))
		}
	}
	for _, c := range cands {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	return ""
}

// findChildFold returns dir/name matched case-insensitively (exact case preferred), or "" if absent.
func findChildFold(dir, name string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	found := ""
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if e.Name() == name {
			return filepath.Join(dir, e.Name())
		}
		if found == "" && strings.EqualFold(e.Name(), name) {
			found = filepath.Join(dir, e.Name())
		}
	}
	return found
}

type builder struct {
	ds         Dataset
	seen       map[string]bool // cleaned absolute image paths already used
	classes    []string        // fixed class list; nil: found in finish
	classFiles []string        // classes.txt files of the folders read
	pending    []pendingImage  // images found, added in finish once the classes are known

	inClassFolder bool // reading one folder of a folder-per-class layout
}

// pendingImage is an image file with its annotation and mask ("" when none), and the name of its class folder
// in a folder-per-class layout.
type pendingImage struct{ img, xml, mask, folderClass string }

func (b *builder) queue(img, xml, mask string) {
	b.pending = append(b.pending, pendingImage{img: img, xml: xml, mask: mask})
}

func newBuilder() *builder { return &builder{seen: make(map[string]bool)} }

func (b *builder) skip(path, reason string) {
	b.ds.Skipped = append(b.ds.Skipped, Skipped{path, reason})
}
func (b *builder) warn(path, reason string) {
	b.ds.Warnings = append(b.ds.Warnings, Skipped{path, reason})
}

type fileSet struct {
	images map[string]string // stem -> path
	xmls   map[string]string
	masks  map[string]string
}

func (b *builder) addDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return pathError(dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("neu: dataset path %s is a file, not a folder", dir)
	}
	if _, err := os.ReadDir(dir); err != nil {
		return pathError(dir, err)
	}
	fsSet := fileSet{images: map[string]string{}, xmls: map[string]string{}, masks: map[string]string{}}
	if st, err := os.Stat(filepath.Join(dir, ClassesFileName)); err == nil && !st.IsDir() {
		b.classFiles = append(b.classFiles, filepath.Join(dir, ClassesFileName))
	}
	if maskDir := findChildFold(dir, "masks"); maskDir != "" {
		b.collectMasks(maskDir, &fsSet)
	}
	imgDir := findChildFold(dir, "images")
	if imgDir == "" && !b.inClassFolder {
		if ok, err := b.addClassFolders(dir); ok || err != nil {
			return err
		}
	}
	if imgDir != "" {
		if err := b.collect(imgDir, true, &fsSet); err != nil {
			return err
		}
		annDir := findChildFold(dir, "annotations")
		if annDir == "" {
			b.warn(dir, "NEU-DET layout without an annotations folder: images have no boxes")
		} else if err := b.collect(annDir, true, &fsSet); err != nil {
			return err
		}
	} else {
		if err := b.collect(dir, false, &fsSet); err != nil {
			return err
		}
		// Images at the top with their XMLs in annotations/ is a common variant of the layout.
		if annDir := findChildFold(dir, "annotations"); annDir != "" {
			if err := b.collect(annDir, true, &fsSet); err != nil {
				return err
			}
		}
	}
	if len(fsSet.images) == 0 {
		where := dir
		if imgDir != "" {
			where = imgDir
		}
		return fmt.Errorf("neu: no .jpg/.jpeg/.png images in %s", where)
	}
	b.queueSet(&fsSet)
	return nil
}

// queueSet queues the images of set with their annotations and masks (by base name) and reports annotations
// without an image.
func (b *builder) queueSet(set *fileSet) {
	stems := make([]string, 0, len(set.images))
	for s := range set.images {
		stems = append(stems, s)
	}
	sort.Strings(stems)
	for _, s := range stems {
		b.queue(set.images[s], set.xmls[s], set.masks[s])
	}
	xmlStems := make([]string, 0)
	for s := range set.xmls {
		if _, ok := set.images[s]; !ok {
			xmlStems = append(xmlStems, s)
		}
	}
	sort.Strings(xmlStems)
	for _, s := range xmlStems {
		b.skip(set.xmls[s], fmt.Sprintf("annotation without an image: no %s.jpg, .jpeg or .png found", s))
	}
}

// collect lists image and XML files in dir (recursively when asked), reporting other files.
func (b *builder) collect(dir string, recursive bool, set *fileSet) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return pathError(dir, err)
			}
			b.skip(p, "cannot be read: "+unwrapPathError(err).Error())
			return nil
		}
		name := d.Name()
		if p == dir {
			return nil
		}
		if strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // hidden files (.DS_Store, ._x.jpg) are metadata, not data
		}
		if d.IsDir() {
			if !recursive {
				// A plain folder is read flat; images/ + annotations/ mark the NEU-DET layout instead.
				if !strings.EqualFold(name, "annotations") && !strings.EqualFold(name, "masks") {
					b.skip(p, "sub-folder of a plain image folder is not searched: pass it to LoadPaths")
				}
				return filepath.SkipDir
			}
			return nil
		}
		ext := strings.ToLower(filepath.Ext(name))
		stem := strings.TrimSuffix(name, filepath.Ext(name))
		switch {
		case imageExts[ext]:
			if prev, ok := set.images[stem]; ok {
				b.skip(p, fmt.Sprintf("another image has the same name %q: %s", stem, prev))
				return nil
			}
			set.images[stem] = p
		case ext == ".xml":
			if prev, ok := set.xmls[stem]; ok {
				b.skip(p, fmt.Sprintf("another annotation has the same name %q: %s", stem, prev))
				return nil
			}
			set.xmls[stem] = p
		default:
			if strings.HasPrefix(strings.ToLower(name), "readme") || strings.EqualFold(name, ClassesFileName) {
				return nil // a dataset's own notes, its class list
			}
			b.skip(p, unsupportedReason(ext))
		}
		return nil
	})
}

// addImage validates one image (and its XML and mask, "" if none) and adds it as a sample or a skip.
func (b *builder) addImage(p pendingImage) {
	imgPath, xmlPath := p.img, p.xml
	key := imgPath
	if abs, err := filepath.Abs(imgPath); err == nil {
		key = abs
	}
	if b.seen[key] {
		return
	}
	b.seen[key] = true

	data, err := os.ReadFile(imgPath)
	if err != nil {
		b.skip(imgPath, "cannot read image: "+unwrapPathError(err).Error())
		return
	}
	cfg, format, err := checkHeader(data)
	if err == nil && !looksComplete(data, format) {
		_, err = decodeBytes(data)
	}
	if err != nil {
		b.skip(imgPath, err.Error())
		return
	}
	base := filepath.Base(imgPath)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	sum := sha256.Sum256(data)
	s := Sample{
		Name:      stem,
		ImagePath: imgPath,
		Label:     LabelFromNameIn(b.classes, stem),
		Group:     hex.EncodeToString(sum[:]),
		Size:      image.Pt(cfg.Width, cfg.Height),
	}
	s.MaskPath = b.checkMask(p.mask, s.Size)
	if p.folderClass != "" {
		if s.Label = ClassIndexIn(b.classes, p.folderClass); s.Label < 0 {
			b.warn(imgPath, fmt.Sprintf("class folder %q is not one of the classes (%s): label unknown (-1)",
				p.folderClass, truncateString(strings.Join(b.classes, ", "), 200)))
		}
	}
	if xmlPath == "" {
		if s.Label < 0 && p.folderClass == "" {
			b.warn(imgPath, "no annotation and the file name starts with no class name: label unknown (-1)")
		}
		b.ds.Samples = append(b.ds.Samples, s)
		return
	}
	if b.annotate(&s, xmlPath) {
		if s.Label < 0 && p.folderClass == "" {
			s.Label = majorityClass(s.Boxes, len(b.classes))
		}
		b.ds.Samples = append(b.ds.Samples, s)
	}
}

// annotate reads s's VOC annotation into s.Boxes (false, with a skip, when it is unusable).
func (b *builder) annotate(s *Sample, xmlPath string) bool {
	base := filepath.Base(s.ImagePath)
	xdata, err := os.ReadFile(xmlPath)
	if err != nil {
		b.skip(xmlPath, fmt.Sprintf("cannot read annotation: %v; image %s not used", unwrapPathError(err), base))
		return false
	}
	ann, err := ParseVOCClasses(xdata, s.Size, b.classes)
	if err != nil {
		b.skip(xmlPath, fmt.Sprintf("%v; image %s not used", err, base))
		return false
	}
	if len(ann.Boxes) == 0 {
		b.skip(xmlPath, fmt.Sprintf("no usable box (%s); image %s not used", strings.Join(ann.Problems, "; "), base))
		return false
	}
	for _, p := range ann.Problems {
		b.warn(xmlPath, p)
	}
	// NEU-DET writes <filename> with or without ".jpg"; only a different base name is worth a warning.
	if fn := ann.Filename; fn != "" {
		fstem := strings.TrimSuffix(filepath.Base(fn), filepath.Ext(fn))
		if !strings.EqualFold(fn, s.Name) && !strings.EqualFold(fstem, s.Name) {
			b.warn(xmlPath, fmt.Sprintf("<filename> %q does not match the image %s (paired by base name)", truncateString(fn, 60), base))
		}
	}
	s.AnnotationPath = xmlPath
	s.Boxes = ann.Boxes
	return true
}

// majorityClass is the class whose boxes cover the largest total area (boxes of one class may overlap and
// count twice; lowest index on ties), -1 for no boxes.
func majorityClass(boxes []Box, numClasses int) int {
	counts := make([]int, numClasses)
	for _, bx := range boxes {
		if bx.Class >= 0 && bx.Class < len(counts) {
			counts[bx.Class] += bx.Rect.Dx() * bx.Rect.Dy()
		}
	}
	best := -1
	for i, c := range counts {
		if c > 0 && (best < 0 || c > counts[best]) {
			best = i
		}
	}
	return best
}

func (b *builder) finish() (*Dataset, error) {
	if err := b.decideClasses(); err != nil {
		return nil, err
	}
	b.ds.Classes = slices.Clone(b.classes)
	for _, p := range b.pending {
		b.addImage(p)
	}
	sort.SliceStable(b.ds.Samples, func(i, j int) bool {
		si, sj := b.ds.Samples[i], b.ds.Samples[j]
		if c := naturalCompare(si.Name, sj.Name); c != 0 {
			return c < 0
		}
		return si.ImagePath < sj.ImagePath
	})
	byPath := func(list []Skipped) {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	}
	byPath(b.ds.Skipped)
	byPath(b.ds.Warnings)
	ds := b.ds
	return &ds, nil
}

// naturalCompare orders strings with digit runs compared as numbers ("crazing_2" < "crazing_10").
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if na != nb {
				return strings.Compare(na, nb)
			}
			continue
		}
		if ca != cb {
			return cmpInt(int(ca), int(cb))
		}
		i++
		j++
	}
	if c := cmpInt(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b) // "01" vs "1": any fixed order
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

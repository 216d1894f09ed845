package neu

import (
	"os"
	"path/filepath"
	"strings"
)

// addClassFolders reads a folder-per-class layout: dir holds no image itself but sub-folders of images
// (each a plain folder or an images/ + annotations/ folder), one per class, named after the class
// (dir/hole/*.png, dir/stain/*.png). Each image's label is its folder's class; boxes in its XML keep their own
// classes. It returns false, having read nothing, when dir is not laid out so.
func (b *builder) addClassFolders(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, pathError(dir, err)
	}
	var folders []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !e.IsDir() {
			if imageExts[strings.ToLower(filepath.Ext(name))] {
				return false, nil // images at the top: a plain folder
			}
			continue
		}
		if !strings.EqualFold(name, "annotations") && !strings.EqualFold(name, MasksDir) &&
			holdsImages(filepath.Join(dir, name)) {
			folders = append(folders, name)
		}
	}
	if len(folders) == 0 {
		return false, nil
	}
	b.inClassFolder = true
	defer func() { b.inClassFolder = false }()
	for _, f := range folders {
		n := len(b.pending)
		if err := b.addDir(filepath.Join(dir, f)); err != nil {
			return true, err
		}
		for i := n; i < len(b.pending); i++ {
			b.pending[i].folderClass = f
		}
	}
	return true, nil
}

// holdsImages reports whether dir has an image file directly or in an images/ sub-folder.
func holdsImages(dir string) bool {
	for _, d := range []string{dir, findChildFold(dir, "images")} {
		if d == "" {
			continue
		}
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(e.Name()))] {
				return true
			}
		}
	}
	return false
}

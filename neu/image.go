package neu

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders ReadImage needs
	_ "image/png"
	"io"
	"os"
	"strings"
)

// Image size limits, checked from the header before decoding so that a hostile or broken file cannot
// make the decoder allocate gigabytes. 8x8 is accepted (tiny images are upsampled by Pixels).
const (
	MinImageSide   = 8
	MaxImageSide   = 16384
	MaxImagePixels = 50_000_000 // 4000x4000 (16 Mpx) fits; 10000x10000 does not
	MaxFileBytes   = 256 << 20
)

// ReadImage reads a JPEG or PNG file (gray, 16-bit gray, RGB, RGBA, palette; any size within the limits,
// square or not) as 8-bit gray. Errors name the file and the problem: missing, unreadable, empty,
// not an image, too small or large, corrupt or truncated.
func ReadImage(path string) (*image.Gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("neu: cannot open image %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("neu: cannot read image %s: %w", path, unwrapPathError(err))
	}
	if st.IsDir() {
		return nil, fmt.Errorf("neu: image %s is a folder, not a file", path)
	}
	img, err := DecodeImage(f)
	if err != nil {
		return nil, fmt.Errorf("neu: image %s: %w", path, err)
	}
	return img, nil
}

// unwrapPathError drops the *fs.PathError wrapper whose message would repeat the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// DecodeImage decodes a JPEG or PNG from r as 8-bit gray (see ReadImage). It never panics on bad input.
func DecodeImage(r io.Reader) (*image.Gray, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read error: %w", unwrapPathError(err))
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("file larger than %d MiB", MaxFileBytes>>20)
	}
	return decodeBytes(data)
}

// checkHeader reads only the image header: it tells whether the bytes are a supported image of a
// sensible size without decoding the pixels.
func checkHeader(data []byte) (image.Config, string, error) {
	if len(data) == 0 {
		return image.Config{}, "", errors.New("empty file (0 bytes)")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return cfg, "", fmt.Errorf("not a JPEG or PNG image (file starts with %q)", printablePrefix(data, 8))
		}
		return cfg, format, fmt.Errorf("corrupt or truncated image header: %v", err)
	}
	w, h := cfg.Width, cfg.Height
	switch {
	case w < MinImageSide || h < MinImageSide:
		return cfg, format, fmt.Errorf("image is %dx%d, smaller than the minimum %dx%d", w, h, MinImageSide, MinImageSide)
	case w > MaxImageSide || h > MaxImageSide || int64(w)*int64(h) > MaxImagePixels:
		return cfg, format, fmt.Errorf("image is %dx%d, larger than the limit (%d px a side, %d Mpx)", w, h, MaxImageSide, MaxImagePixels/1_000_000)
	}
	return cfg, format, nil
}

func decodeBytes(data []byte) (*image.Gray, error) {
	_, format, err := checkHeader(data)
	if err != nil {
		return nil, err
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || !looksComplete(data, format) {
			return nil, fmt.Errorf("truncated %s: the data ends before the image is complete (%v)", strings.ToUpper(format), err)
		}
		return nil, fmt.Errorf("corrupt %s: %v", strings.ToUpper(format), err)
	}
	return toGray(img), nil
}

// looksComplete is a cheap test that a file's last bytes are its end marker (JPEG EOI, PNG IEND).
// Load fully decodes only the files where it fails, to catch truncation without decoding every image.
func looksComplete(data []byte, format string) bool {
	switch format {
	case "jpeg":
		d := bytes.TrimRight(data, "\x00\r\n\t ")
		return bytes.HasSuffix(d, []byte{0xff, 0xd9})
	case "png":
		return bytes.HasSuffix(data, []byte("IEND\xaeB`\x82"))
	}
	return false
}

func printablePrefix(data []byte, n int) string {
	if len(data) > n {
		data = data[:n]
	}
	return string(data)
}

// toGray converts any image to 8-bit gray with the ITU-R BT.601 luma weights (0.299 R + 0.587 G + 0.114 B,
// as color.GrayModel), alpha composited over black, the result's bounds starting at (0,0).
// JPEGs give the Y plane directly: it is that same luma.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	switch src := img.(type) {
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(out.Pix[y*out.Stride:y*out.Stride+w], src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			yi := src.YOffset(b.Min.X, b.Min.Y+y)
			copy(out.Pix[y*out.Stride:y*out.Stride+w], src.Y[yi:yi+w])
		}
	case *image.Gray16:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				v := uint32(row[2*x])<<8 | uint32(row[2*x+1])
				o[x] = uint8((v*255 + 32767) / 65535)
			}
		}
	case *image.RGBA:
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				p := row[4*x : 4*x+3]
				o[x] = luma16(uint32(p[0])*0x101, uint32(p[1])*0x101, uint32(p[2])*0x101)
			}
		}
	case *image.Paletted:
		lut := make([]uint8, 256)
		for i, c := range src.Palette {
			lut[i] = color.GrayModel.Convert(c).(color.Gray).Y
		}
		for y := 0; y < h; y++ {
			row := src.Pix[src.PixOffset(b.Min.X, b.Min.Y+y):]
			o := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				o[x] = lut[row[x]]
			}
		}
	default:
		// NRGBA, 16-bit colour, CMYK and the rest: the generic path is slower but exact.
		for y := 0; y < h; y++ {
			o := out.Pix[y*out.Stride:]
			for x := 0; x < w; x++ {
				r, g, bb, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				o[x] = luma16(r, g, bb)
			}
		}
	}
	return out
}

// luma16 is color.GrayModel's formula on 16-bit premultiplied channels, returning 8 bits.
func luma16(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 24)
}

// ScaleBoxes maps boxes from an image of size from onto a to x to grid (the Pixels output), scaling x and y
// separately. Min is rounded down and Max up so that a scaled box still covers every pixel of the original;
// results are clipped to the grid and boxes that end up empty are dropped.
func ScaleBoxes(boxes []Box, from image.Point, to int) []Box {
	if from.X <= 0 || from.Y <= 0 || to <= 0 {
		return nil
	}
	grid := image.Rect(0, 0, to, to)
	out := make([]Box, 0, len(boxes))
	for _, bx := range boxes {
		r := bx.Rect
		s := image.Rect(
			floorDiv(r.Min.X*to, from.X), floorDiv(r.Min.Y*to, from.Y),
			ceilDiv(r.Max.X*to, from.X), ceilDiv(r.Max.Y*to, from.Y),
		).Intersect(grid)
		if s.Empty() {
			continue
		}
		bx.Rect = s
		out = append(out, bx)
	}
	return out
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

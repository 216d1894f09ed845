// Package heatmap is the one map type of the gradcam library and the plain-Go operations every other package
// shares on it: bilinear resizing, thresholded connected components (CAM boxes), the eight dihedral transforms,
// argmax, the gray-image-to-pixels conversion, and the batched Predictor signature that perturbation methods (LIME, deletion/insertion) call.
//
// A map is row-major (index y*W+x). The engine (package gradcam) produces them, render draws them, metrics scores
// them, lime fits them; none of those packages has its own resize, components or argmax.
// Pixels turns a gray image into the model's input. It imports only the standard library and x/image/draw.
package heatmap

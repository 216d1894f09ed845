// Package heatmap is the one map type of the gradcam library and the plain-Go operations every other package
// shares on it: bilinear resizing, thresholded connected components (CAM boxes), the eight dihedral transforms,
// argmax, and the batched Predictor signature that perturbation methods (LIME, deletion/insertion) call.
//
// A map is row-major (index y*W+x). The engine (package gradcam) produces them, render draws them, metrics scores
// them, lime fits them; none of those packages has its own resize, components or argmax.
// It imports only the standard library.
package heatmap

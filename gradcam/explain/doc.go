// Package explain is the layer between the CAM engine (package gradcam) and its users: a model, images and a
// method string go in; class probabilities, one map per class and method, and ready-to-draw render panels (with
// the GT boxes) come out. Compiled explainers are cached per method, so explaining more images with the same
// method costs no recompilation, and every method runs on a whole batch at a time.
//
//	e := explain.New(model, explain.DefaultOptions())
//	res, err := e.Explain(images, "gradcam,eigencam")
//	row, err := render.MethodRow(res.Panels(0), res.MethodNames(), -1, render.DefaultOptions())
//
// The method grammar (ParseMethod, Method.String) is the one the neucam CLI reads:
// NAME[@LAYER[+LAYER...]][:tta|:flips][:smooth][:logprob], e.g. "gradcam@layer3+layer4:tta", or "lime".
//
// It works for any GoMLX classifier whose model function returns logits and named feature maps; it imports
// nothing of the NEU data set (package app adapts the NEU samples and ResNet).
package explain

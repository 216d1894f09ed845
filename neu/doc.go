// Package neu loads the NEU-DET steel surface defect dataset (and plain folders of images) into
// gray pixels, class labels and bounding boxes, ready for the CAM pipeline.
//
// It is pure Go (no GoMLX): files -> []Sample -> Split -> ReadImage -> Pixels (training augmentation is gradcam/resnet's).
//
// Problems with single files never stop a batch: Load/LoadPaths put them in Dataset.Skipped
// (the file is not used) or Dataset.Warnings (the file is used, but something was fixed or dropped).
// Errors are returned only for a folder or path that does not exist, cannot be read, or holds no images.
package neu

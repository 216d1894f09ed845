package report

import (
	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/resnet"
)

// NEUModel adapts the NEU ResNet classifier: CAM methods target "layer4" (the last block, 16x16 for the shipped
// 128 px model) by default, CAM reads the dense head, and the sanity check re-initialises layer4 and the head.
func NEUModel(c *resnet.Classifier) *Model {
	return &Model{
		Backend:     c.Backend(),
		Store:       c.Store(),
		Fn:          c.ModelFn(),
		Size:        c.Size(),
		Classes:     c.Classes(),
		Layers:      []string{"layer4"},
		HeadWeights: gradcam.HeadWeightsVariable(resnet.ModelVarScope + "/head/weights"),
	}
}

// NEURandomizeScopes are the top layers the sanity check re-initialises.
var NEURandomizeScopes = []string{resnet.ModelVarScope + "/layer4", resnet.ModelVarScope + "/head"}

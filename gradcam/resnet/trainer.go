package resnet

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/metric"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ml/train/optimizer/cosineschedule"
)

// Hyperparameters used by NewTrainer (store params, so they are saved with checkpoints).
const (
	ParamTotalSteps  = "resnet_total_steps"
	ParamWarmupSteps = "resnet_warmup_steps"
	ParamWeightDecay = "resnet_weight_decay"
	ParamLabelSmooth = "resnet_label_smoothing"
)

// NewTrainer builds the GoMLX trainer for the NEU ResNet: softmax cross-entropy on the logits,
// AdamW (decoupled weight decay), cosine learning-rate schedule with linear warm-up over
// ParamTotalSteps, and a moving-average accuracy train metric plus a mean accuracy eval metric.
// The learning rate is the store param optimizer.ParamLearningRate. With ParamBoxLoss > 0 the inputs are
// images, box targets [B, h*w] (BoxTarget), labels [B] int32 and box weights [B] float32 (trainDataset builds
// them) and the box-guided loss is added; else the only input is the images.
func NewTrainer(backend compute.Backend, store *model.Store) *train.Trainer {
	lr := model.GetRootParamOr(store, optimizer.ParamLearningRate, 3e-3)
	wd := model.GetRootParamOr(store, ParamWeightDecay, 5e-4)
	boxWeight := model.GetRootParamOr(store, ParamBoxLoss, 0.0)
	modelFn := func(scope *model.Scope, inputs []*Node) *Node {
		images := inputs[0]
		g := images.Graph()
		cosineschedule.New(scope, g, dtypes.Float32).
			PeriodSteps(model.GetRootParamOr(store, ParamTotalSteps, 1000)).
			WarmUpSteps(model.GetRootParamOr(store, ParamWarmupSteps, 0)).
			LearningRate(lr).
			MinLearningRate(lr / 100).
			Done()
		if boxWeight > 0 && len(inputs) == 4 {
			return logitsWithBoxLoss(scope, images, inputs[1], inputs[2], inputs[3], boxWeight)
		}
		return Logits(scope, images)
	}
	return train.NewTrainer(backend, store, modelFn, loss.SparseCategoricalCrossEntropyLogits,
		optimizer.Adam().LearningRate(lr).WeightDecay(wd).Done(),
		[]metric.Interface{metric.NewMovingAverageSparseCategoricalAccuracy("Moving Average Accuracy", "~acc", 0.05)},
		[]metric.Interface{metric.NewSparseCategoricalAccuracy("Mean Accuracy", "#acc")})
}

import TridentTraining

/// TridentKernels and TridentTraining both declare `Activation` on this branch; the training
/// kernels' tests mean TridentTraining's. (Goes away once the kernels move to TridentKernels.)
typealias Activation = TridentTraining.Activation

// TridentKernels

using KneeOnnx.Training.Cli;

// Before libtorch starts its worker threads, which inherit the setting (see FlushDenormals).
KneeOnnx.Training.LibTorch.FlushDenormals.Enable();
return KneeOnnxTrainCli.Run(args, Console.Out, Console.Error);

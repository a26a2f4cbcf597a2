using KneeOnnx.Training.Cli;

// Before libtorch starts its worker threads, which inherit the setting (see FlushDenormals).
KneeOnnx.Training.Runtime.FlushDenormals.Enable();
return KneeOnnxTrainCli.Run(args, Console.Out, Console.Error);

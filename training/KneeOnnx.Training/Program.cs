using KneeOnnx.Training.Cli;

return KneeOnnxTrainCli.Run(args, Console.Out, Console.Error);

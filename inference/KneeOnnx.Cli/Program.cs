using KneeOnnx.Cli;

return KneeOnnxCli.Run(args, Console.Out, Console.Error);

using System.CommandLine;
using DANNet.Trainer.Cli;

var root = new RootCommand("dannet-train — DANNet night-time segmentation: data, training, evaluation and export.")
{
    SynthCommand.Create(),
    DemoCommand.Create(),
    DoctorCommand.Create(),
    ConformanceCommand.Create(),
    ModelCommands.ArchInfo(),
    PretrainedCommand.Create(),
    ModelCommands.BenchStep(),
    CheckpointCommand.Create(),
    TrainCommand.Create(),
    EvalCommands.Eval(),
    EvalCommands.Predict(),
    CompareCommand.Create(),
    EvalCommands.Stats(),
    EvalTableCommand.Create(),
    CurvesCommand.Create(),
    ExportCommands.Export(),
    ExportCommands.CheckOnnx(),
};
return await root.Parse(args).InvokeAsync();

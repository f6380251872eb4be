using System.CommandLine;
using DANNet.Edge.Cli;

var root = new RootCommand("dannet-edge — night-capable semantic segmentation on the car: camera frames in, class masks out to shared memory.")
{
    RunCommand.Create(),
    ClassesCommand.Create(),
    ModelCommand.Create(),
    TapCommand.Create(),
    BenchCommand.Create(),
    PublishTestPatternCommand.Create(),
    ReplayCommand.Create(),
};
return await root.Parse(args).InvokeAsync();

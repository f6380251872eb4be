using System.CommandLine;
using DANNet.Edge.Cli;
using DANNet.Edge.Service;
using DANNet.Model;

var root = new RootCommand("dannet-edge — night-capable semantic segmentation on the car: camera frames in, class masks out to shared memory.")
{
    RunCommand.Create(),
    ClassesCommand.Create(),
    ModelCommand.Create(),
    TapCommand.Create(),
    BenchCommand.Create(),
    PublishTestPatternCommand.Create(),
    ReplayCommand.Create(),
    ValidateCommand.Create(),
};
var parse = root.Parse(args);
// A usage error (an unknown option, a missing value) is exit 2, as the README and the unit's RestartPreventExitStatus=2 say.
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine($"See 'dannet-edge {parse.CommandResult.Command.Name} --help'.");
    return RunCommand.ConfigurationError;
}
// The commands that run the pipeline need OpenCV's and ONNX Runtime's native libraries ('model' needs ONNX Runtime only): a missing one is
// one line naming it and its package, exit 2 (a broken install; systemd's RestartPreventExitStatus=2
// stops the restart loop), before any configuration, model or ring is touched.
if (parse.Errors.Count == 0 && parse.Action is not System.CommandLine.Help.HelpAction
    && parse.CommandResult.Command.Name is "run" or "replay" or "bench" or "validate" or "merge")
{
    try
    {
        NativeDependencies.Check();
    }
    catch (NativeDependencyException ex)
    {
        Console.Error.WriteLine($"dannet-edge: cannot start: {ex.Message}");
        return RunCommand.ConfigurationError;
    }
}
return await parse.InvokeAsync();

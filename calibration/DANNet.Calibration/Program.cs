using System.CommandLine;
using DANNet.Calibration.Cli;

var root = new RootCommand("dannet-calibrate — INT8 calibration of exported DANNet Edge models: an explicitly quantised (Q/DQ) ONNX model and a " +
    "TensorRT calibration cache, from frames fed as the runtime feeds them.");
CalibrateCommand.Configure(root);
return await root.Parse(args).InvokeAsync();

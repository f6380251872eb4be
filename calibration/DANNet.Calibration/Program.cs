using System.CommandLine;

// INT8 calibration of exported models for TensorRT. Its commands arrive with the calibration
// issue; until then the tool only describes itself, and says so.
var root = new RootCommand("dannet-calibrate — INT8 calibration of exported DANNet Edge models for TensorRT (calibration cache and explicit Q/DQ). No calibration command is implemented yet.");
return await root.Parse(args).InvokeAsync();

using DANNet.Model.Onnx;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using DANNet.Edge.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DANNet.Model;

/// <summary>
/// Opens a model on the first execution provider of an ordered list that works: TensorRT (with
/// CUDA behind it for nodes TensorRT leaves), CUDA, CPU. A provider that fails to load is logged
/// with the reason (the missing library, read from the loader) and the next one is tried.
/// </summary>
public static class ExecutionProviders
{
    public static (InferenceSession Session, ExecutionProvider Provider) Open(string path, ModelOptions options, ILogger log) =>
        Open(path, null, options, log);

    /// <summary>As <see cref="Open(string, ModelOptions, ILogger)"/>, for a model held in memory (<paramref name="bytes"/>; <paramref name="path"/> names it in messages).</summary>
    public static (InferenceSession Session, ExecutionProvider Provider) Open(string path, byte[]? bytes, ModelOptions options, ILogger log)
    {
        _ = OnnxRuntimeEnvironment.Instance;
        var providers = options.Providers.Select(ExecutionProviderNames.Parse).ToArray();
        var failures = new List<string>();
        // A model quantised by dannet-calibrate carries its scales in Q/DQ pairs: TensorRT must be in INT8 mode to build it
        // as int8 (explicit quantization), and a calibration table would only duplicate (or contradict) those scales.
        bool qdq = providers.Contains(ExecutionProvider.TensorRt) && (bytes is null ? IsQdq(path) : IsQdq(bytes, path));
        if (qdq) log.LogInformation("{Path} is an explicitly quantised (Q/DQ) model: TensorRT runs it in INT8 with the model's own scales{Ignored}",
            path, options.TensorRt.Int8CalibrationTable.Length > 0 ? $" (Model:TensorRt:Int8CalibrationTable '{options.TensorRt.Int8CalibrationTable}' is not used)" : "");
        for (int i = 0; i < providers.Length; i++)
        {
            var provider = providers[i];
            var sessionOptions = new SessionOptions
            {
                IntraOpNumThreads = options.Threads,
                InterOpNumThreads = 1,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
            };
            try
            {
                Append(sessionOptions, provider, options, qdq);
                // TensorRT hands the nodes it cannot take to the next GPU provider if one is listed.
                if (provider == ExecutionProvider.TensorRt && providers.Skip(i + 1).Contains(ExecutionProvider.Cuda)) TryAppend(sessionOptions, ExecutionProvider.Cuda, options, log);
                var session = bytes is null ? new InferenceSession(path, sessionOptions) : new InferenceSession(bytes, sessionOptions);
                log.LogInformation("Model {Path} runs on the {Provider} execution provider{Skipped}", path, provider.Name(),
                    failures.Count > 0 ? $" (skipped: {string.Join("; ", failures)})" : "");
                return (session, provider);
            }
            catch (OnnxRuntimeException ex)
            {
                string reason = Reason(provider, ex);
                failures.Add($"{provider.Name()}: {reason}");
                log.LogWarning("Execution provider {Provider} could not be used: {Reason}; trying the next one", provider.Name(), reason);
            }
            finally
            {
                sessionOptions.Dispose();
            }
        }
        throw new InvalidOperationException($"No execution provider could run '{path}': {string.Join("; ", failures)}." +
            (providers.Contains(ExecutionProvider.Cpu) ? "" : " Add cpu to Model:Providers as the last resort."));
    }

    /// <summary>Whether the file at <paramref name="path"/> declares itself an explicitly quantised model (dannet.precision int8-qdq).</summary>
    public static bool IsQdq(string path) =>
        File.Exists(path) && ModelCard.FromMetadata(OnnxFileMetadata.Read(path), path).Precision == ModelPrecision.Int8Qdq;

    private static bool IsQdq(byte[] model, string name)
    {
        using var stream = new MemoryStream(model, writable: false);
        return ModelCard.FromMetadata(OnnxFileMetadata.Read(stream, name), name).Precision == ModelPrecision.Int8Qdq;
    }

    private static void TryAppend(SessionOptions o, ExecutionProvider provider, ModelOptions options, ILogger log)
    {
        try { Append(o, provider, options, qdq: false); }
        catch (OnnxRuntimeException ex) { log.LogWarning("{Provider} behind TensorRT is unavailable: {Reason}", provider.Name(), Reason(provider, ex)); }
    }

    private static void Append(SessionOptions o, ExecutionProvider provider, ModelOptions options, bool qdq)
    {
        string device = options.DeviceId.ToString(CultureInfo.InvariantCulture);
        switch (provider)
        {
            case ExecutionProvider.TensorRt:
                using (var trt = new OrtTensorRTProviderOptions())
                {
                    trt.UpdateOptions(TensorRtSettings(options, qdq));
                    o.AppendExecutionProvider_Tensorrt(trt);
                }
                break;
            case ExecutionProvider.Cuda:
                using (var cuda = new OrtCUDAProviderOptions())
                {
                    cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = device });
                    o.AppendExecutionProvider_CUDA(cuda);
                }
                break;
            case ExecutionProvider.Cpu:
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(provider), provider, "No session setup for this execution provider.");
        }
    }

    /// <summary>
    /// ONNX Runtime's TensorRT options for <paramref name="options"/> (the trt_* keys of its documentation). For a Q/DQ model
    /// (<paramref name="qdq"/>) INT8 is on whatever Model:TensorRt:Int8 says, and no calibration table is passed.
    /// </summary>
    public static Dictionary<string, string> TensorRtSettings(ModelOptions options, bool qdq = false)
    {
        var t = options.TensorRt;
        var s = new Dictionary<string, string>
        {
            ["device_id"] = options.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = t.Fp16 ? "1" : "0",
            ["trt_int8_enable"] = t.Int8 || qdq ? "1" : "0",
            ["trt_max_workspace_size"] = ((long)t.WorkspaceMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
            ["trt_builder_optimization_level"] = t.BuilderOptimizationLevel.ToString(CultureInfo.InvariantCulture),
        };
        if (t.Int8 && !qdq && t.Int8CalibrationTable.Length > 0)
        {
            // dannet-calibrate writes TensorRT's own cache format (TRT-<version>-<calibrator>, then tensor: <hex scale>),
            // so the provider is told the table is native rather than ONNX Runtime's flatbuffers table.
            s["trt_int8_calibration_table_name"] = t.Int8CalibrationTable;
            s["trt_int8_use_native_calibration_table"] = "1";
        }
        if (t.EngineCachePath.Length > 0)
        {
            s["trt_engine_cache_enable"] = "1";
            s["trt_engine_cache_path"] = t.EngineCachePath;
        }
        if (t.TimingCachePath.Length > 0)
        {
            s["trt_timing_cache_enable"] = "1";
            s["trt_timing_cache_path"] = t.TimingCachePath;
        }
        return s;
    }

    /// <summary>
    /// Why a provider failed, in one line: ONNX Runtime's message carries the loader's error
    /// ("… with error: libcublasLt.so.13: cannot open shared object file …"); keep that part and say
    /// what to install. Otherwise the loader is asked directly by loading the provider library.
    /// </summary>
    public static string Reason(ExecutionProvider provider, Exception ex)
    {
        string message = ex.Message.Split('\n')[0].Trim();
        var loader = Regex.Match(message, @"with error: (?<why>.+?)(: No such file or directory)?$");
        string hint = provider.NeedsGpu() ? " (the CUDA 13 / TensorRT libraries are missing: install them, as JetPack does, or drop the provider)" : "";
        if (loader.Success) return loader.Groups["why"].Value.Trim() + hint;
        if (provider.NeedsGpu())
        {
            string file = Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", $"libonnxruntime_providers_{provider.Name()}.so");
            if (File.Exists(file) && !NativeLibrary.TryLoad(file, out _)) return $"{message}; the provider library {file} does not load{hint}";
            if (!File.Exists(file)) return $"{message}; this build has no {Path.GetFileName(file)}";
        }
        return message;
    }
}

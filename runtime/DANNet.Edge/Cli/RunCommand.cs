using DANNet.Model;
using System.CommandLine;
using DANNet.Edge.Contracts;
using DANNet.Edge.Configuration;
using DANNet.Edge.Service;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Cli;

/// <summary><c>dannet-edge run</c>: the daemon on the .NET Generic Host (systemd-aware).</summary>
internal static class RunCommand
{
    public static readonly Option<FileInfo?> Config = new("--config", "-c") { Description = $"JSON configuration (default: {EdgeConfiguration.InstalledFile} if present, else built-in defaults)." };
    public static readonly Option<string?> Source = new("--source", "-s") { Description = "Frame source URI (v4l2:///dev/video0, csi://0, gst://…, " +
        "rtsp://…, file:///…, a folder); default: the SynthNight night drive video, looping." };
    public static readonly Option<string?> Model = new("--model", "-m") { Description = "Exported .onnx model; default: the embedded SynthNight model." };
    public static readonly Option<string?> Providers = new("--providers") { Description = "Execution providers in order, comma-separated (default tensorrt,cuda,cpu)." };
    public static readonly Option<string?> Output = new("--output", "-o") { Description = "Ring file: a name in Output:Directory " +
        "(default /dev/shm/dannet-edge/masks), or an absolute path, whose folder then becomes Output:Directory (it must be the writer's own)." };
    public static readonly Option<long?> Frames = new("--frames", "-n") { Description = "Stop after this many published frames (over all cameras)." };
    public static readonly Option<string[]> Camera = new("--camera") { Description = "A camera NAME=URI (repeat for several): each into its own " +
        "ring <Output:Directory>/NAME, all through one model; as Cameras:NAME:Uri in the configuration.", AllowMultipleArgumentsPerToken = false,
        HelpName = "NAME=URI" };

    public static Command Create()
    {
        var command = new Command("run", "Run the daemon: frames from the source, relighting + segmentation via ONNX Runtime (TensorRT/CUDA/CPU), " +
            "masks to the shared-memory ring. With no options it segments the embedded night drive with the embedded model.")
        {
            Config, Source, Model, Providers, Output, Frames, SharedOptions.Resize, Camera,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var overrides = new Dictionary<string, string?>();
            if (parse.GetValue(Source) is { } s) overrides["Source:Uri"] = s;
            foreach (var camera in parse.GetValue(Camera) ?? [])
            {
                int equals = camera.IndexOf('=');
                if (equals < 1 || equals == camera.Length - 1)
                {
                    Console.Error.WriteLine($"dannet-edge: --camera '{camera}': give NAME=URI, e.g. --camera front=v4l2:///dev/video0.");
                    return ConfigurationError;
                }
                overrides[$"Cameras:{camera[..equals]}:Uri"] = camera[(equals + 1)..];
            }
            if (parse.GetValue(Model) is { } m) overrides["Model:Path"] = m;
            if (parse.GetValue(Output) is { } o)
            {
                // An absolute path names the writer's folder too; the writer then checks that folder is its own.
                overrides["Output:Path"] = Path.IsPathRooted(o) ? Path.GetFileName(o) : o;
                if (Path.IsPathRooted(o)) overrides["Output:Directory"] = Path.GetDirectoryName(o);
            }
            if (parse.GetValue(SharedOptions.Resize) is { } r) overrides["Model:Resize"] = InputResizes.Name(r);
            if (parse.GetValue(Frames) is { } n) overrides["Run:Frames"] = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (parse.GetValue(Providers) is { } p)
            {
                var list = p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                for (int i = 0; i < list.Length; i++) overrides[$"Model:Providers:{i}"] = list[i];
                // Array settings merge by index: blank out what a file listed beyond (blanks are dropped).
                for (int i = list.Length; i < 8; i++) overrides[$"Model:Providers:{i}"] = null;
            }
            EdgeOptions options;
            IConfigurationRoot configuration;
            try
            {
                string? file = parse.GetValue(Config)?.FullName;
                configuration = EdgeConfiguration.Build(file, overrides);
                options = EdgeConfiguration.Bind(configuration, EdgeConfiguration.FileFor(file));
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return ConfigurationError;
            }
            // What can be found wrong before the model loads is found now: exit 2, one line each.
            var problems = StartChecks.Problems(options);
            if (problems.Count > 0)
            {
                foreach (var problem in problems) Console.Error.WriteLine($"error: {problem}");
                return ConfigurationError;
            }
            return await RunAsync(options, cancel, configuration);
        });
        return command;
    }

    /// <summary>Exit codes: 0 a normal end, 1 a failure while running or starting (model, ring, source), 2 a configuration or usage error.</summary>
    public const int Failed = 1, ConfigurationError = 2;

    /// <summary>Runs the daemon on the Generic Host built over <paramref name="configuration"/> (its Logging section sets the log levels).</summary>
    internal static async Task<int> RunAsync(EdgeOptions options, CancellationToken cancel, IConfiguration? configuration = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // A start failure is reported once, as one line, below; the host's own report repeats it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        // The host's default logging setup reads the Logging section of builder.Configuration.
        if (configuration is not null) builder.Configuration.AddConfiguration(configuration);
        builder.Services.AddSystemd();
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<EdgeService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EdgeService>());
        using var host = builder.Build();
        var service = host.Services.GetRequiredService<EdgeService>();
        var log = host.Services.GetRequiredService<ILogger<EdgeService>>();
        // SIGHUP (a terminal closing, or 'systemctl reload') must not kill the daemon: the configuration is read at start only.
        using var hangup = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            log.LogWarning("SIGHUP: dannet-edge reads its configuration only at start; restart it to apply changes (systemctl restart dannet-edge). Running on.");
        });
        try
        {
            await host.RunAsync(cancel);
        }
        catch (Exception ex) when (CommandErrors.IsFixable(ex) || ex is InvalidOperationException)
        {
            string message = ex.Message.ReplaceLineEndings(" ");
            Console.Error.WriteLine($"dannet-edge: cannot start: {message}");
            return Failed;
        }
        return service.ExitCode;
    }
}

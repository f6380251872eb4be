using DANNet.Model;
using Microsoft.Extensions.Configuration;

namespace DANNet.Edge.Configuration;

/// <summary>Builds <see cref="EdgeOptions"/> from the layered sources and validates it.</summary>
public static class EdgeConfiguration
{
    /// <summary>The installed configuration file, used when present and no --config is given.</summary>
    public const string InstalledFile = "/etc/dannet-edge/dannet-edge.json";

    /// <summary>
    /// Environment variables <c>DANNET_EDGE_&lt;Section&gt;__&lt;Key&gt;</c> configure the daemon; a variable with
    /// the prefix but no <c>__</c> is not configuration (the readers' <c>DANNET_EDGE_RING_OWNER</c>) and is ignored.
    /// </summary>
    public const string EnvironmentPrefix = "DANNET_EDGE_";

    /// <summary>The largest configuration file read (a car's configuration is a few kilobytes).</summary>
    public const long MaxFileBytes = 1 << 20;

    /// <summary>The most settings a configuration file may hold.</summary>
    public const int MaxKeys = 4096;

    /// <summary>The deepest nesting of a configuration file (the daemon's own settings are three levels deep).</summary>
    public const int MaxDepth = 16;

    /// <summary>The sections the daemon binds; <see cref="LoggingSection"/> goes to the host's logging; any other top-level key is refused.</summary>
    public static IReadOnlyList<string> Sections { get; } = ["Source", "Cameras", "Model", "Output", "Metrics", "Run"];

    public const string LoggingSection = "Logging";

    /// <summary>
    /// Defaults ← <paramref name="file"/> (or the installed file if it exists) ← environment ←
    /// <paramref name="overrides"/> (command-line options, as "Section:Key" → value). Unknown keys,
    /// wrong types and invalid values throw <see cref="ArgumentException"/> naming every problem.
    /// </summary>
    public static EdgeOptions Load(string? file, IReadOnlyDictionary<string, string?> overrides, IDictionary<string, string?>? environment = null) =>
        Bind(Build(file, overrides, environment), FileFor(file));

    /// <summary>
    /// The one configuration root of a run: the layered sources of <see cref="Load"/>. The daemon's
    /// host is built on it (so its <c>Logging</c> section sets log levels) and <see cref="Bind"/> reads
    /// the daemon's options from it.
    /// </summary>
    public static IConfigurationRoot Build(string? file, IReadOnlyDictionary<string, string?> overrides, IDictionary<string, string?>? environment = null)
    {
        var builder = new ConfigurationBuilder();
        string? path = FileFor(file);
        if (path is not null)
        {
            if (Directory.Exists(path)) throw new ArgumentException($"Configuration file '{path}' is a folder: give the JSON file.");
            if (!File.Exists(path)) throw new ArgumentException($"Configuration file '{path}' does not exist.");
            builder.AddJsonStream(new MemoryStream(ReadBounded(path)));
        }
        environment ??= Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        builder.AddInMemoryCollection(environment
            .Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.Ordinal) && kv.Key.Contains("__", StringComparison.Ordinal))
            .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        builder.AddInMemoryCollection(overrides);
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            throw new ArgumentException($"Configuration file '{path}' is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// The configuration file's bytes, checked before the configuration system sees them: at most
    /// <see cref="MaxFileBytes"/>, valid JSON (a syntax error names its line), nested at most
    /// <see cref="MaxDepth"/> deep and holding at most <see cref="MaxKeys"/> settings.
    /// </summary>
    private static byte[] ReadBounded(string path)
    {
        byte[] bytes;
        try
        {
            using var stream = File.OpenRead(path);
            if (stream.Length > MaxFileBytes)
                throw new ArgumentException($"Configuration file '{path}' is {stream.Length} bytes; a configuration holds at most {MaxFileBytes} " +
                    "(the daemon's settings take a few kilobytes).");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new ArgumentException($"Configuration file '{path}' cannot be read ({ex.Message}): check its permissions (the service user must read it).");
        }
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(bytes, new System.Text.Json.JsonDocumentOptions
            {
                MaxDepth = MaxDepth, CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true,
            });
            int keys = CountKeys(document.RootElement);
            if (keys > MaxKeys)
                throw new ArgumentException($"Configuration file '{path}' holds {keys} settings; at most {MaxKeys} are read.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            string reason = ex.Message.Contains("maximum configured depth", StringComparison.Ordinal)
                ? $"it is nested deeper than {MaxDepth} levels"
                : ex.Message.Split(" LineNumber:", 2)[0].TrimEnd('.');
            throw new ArgumentException($"Configuration file '{path}' is not valid JSON at line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}: {reason}.");
        }
        return bytes;
    }

    private static int CountKeys(System.Text.Json.JsonElement element) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => element.EnumerateObject().Sum(p => 1 + CountKeys(p.Value)),
        System.Text.Json.JsonValueKind.Array => element.EnumerateArray().Sum(e => 1 + CountKeys(e)),
        _ => 0,
    };

    /// <summary>The daemon's options from <paramref name="config"/>, strictly: unknown sections and keys, wrong types and invalid values are refused, all named.</summary>
    public static EdgeOptions Bind(IConfiguration config, string? source = null)
    {
        string where = source is null ? "" : $" ('{source}')";
        var unknown = config.GetChildren().Select(c => c.Key)
            .Where(k => !Sections.Contains(k, StringComparer.OrdinalIgnoreCase) && !string.Equals(k, LoggingSection, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Configuration{where}: unknown section(s) " +
                $"{string.Join(", ", unknown.Select(k => $"'{k}'"))}; the daemon reads {string.Join(", ", Sections)} and {LoggingSection}.");
        // Shape first (unknown keys, wrong types), every problem at once; then what is right is bound and its values validated.
        var shape = ConfigurationShape.Problems(config, SectionTypes);
        if (shape.Count > 0) config = ConfigurationShape.Without(config, shape.Select(p => p.Key));
        EdgeOptions options;
        try
        {
            var defaults = new EdgeOptions();
            options = new EdgeOptions
            {
                Source = Section(config, "Source", defaults.Source),
                // Each camera starts from the defaults of a Source, then its own keys.
                Cameras = config.GetSection("Cameras").GetChildren().ToDictionary(c => c.Key, c => Section(config, $"Cameras:{c.Key}", new SourceOptions()),
                    StringComparer.Ordinal),
                Model = Section(config, "Model", defaults.Model),
                Output = Section(config, "Output", defaults.Output),
                Metrics = Section(config, "Metrics", defaults.Metrics),
                Run = Section(config, "Run", defaults.Run),
            };
            // The binder appends a configured array to the default one; a configured list replaces it.
            var configured = config.GetSection("Model:Providers").GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
            options = options with { Model = options.Model with { Providers = configured.Length > 0 ? configured : [.. ModelOptions.DefaultProviders] } };
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException($"Configuration{where}: {ex.Message} Field names are listed in README, 'Configuration'.", ex);
        }
        var problems = shape.Select(p => p.Problem).Concat(EdgeOptionsValidator.Problems(options)).ToList();
        if (problems.Count > 0)
            throw new ArgumentException($"Configuration{where} has {problems.Count} problem(s):\n  " + string.Join("\n  ", problems));
        return options;
    }

    private static readonly Dictionary<string, Type> SectionTypes = new()
    {
        ["Source"] = typeof(SourceOptions), ["Cameras"] = typeof(Dictionary<string, SourceOptions>), ["Model"] = typeof(ModelOptions),
        ["Output"] = typeof(OutputOptions), ["Metrics"] = typeof(MetricsOptions), ["Run"] = typeof(RunSettings),
    };

    private static T Section<T>(IConfiguration config, string name, T defaults) where T : class =>
        config.GetSection(name).Get<T>(b => b.ErrorOnUnknownConfiguration = true) ?? defaults;

    /// <summary>The file a run reads: <paramref name="file"/>, else the installed file when it exists, else none.</summary>
    public static string? FileFor(string? file) => file ?? (File.Exists(InstalledFile) ? InstalledFile : null);
}

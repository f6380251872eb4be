using Microsoft.Extensions.Configuration;

namespace DANNet.Edge.Configuration;

/// <summary>Builds <see cref="EdgeOptions"/> from the layered sources and validates it.</summary>
public static class EdgeConfiguration
{
    /// <summary>The installed configuration file, used when present and no --config is given.</summary>
    public const string InstalledFile = "/etc/dannet-edge/dannet-edge.json";

    public const string EnvironmentPrefix = "DANNET_EDGE_";

    /// <summary>
    /// Defaults ← <paramref name="file"/> (or the installed file if it exists) ← environment ←
    /// <paramref name="overrides"/> (command-line options, as "Section:Key" → value). Unknown keys,
    /// wrong types and invalid values throw <see cref="ArgumentException"/> naming every problem.
    /// </summary>
    public static EdgeOptions Load(string? file, IReadOnlyDictionary<string, string?> overrides, IDictionary<string, string?>? environment = null)
    {
        var builder = new ConfigurationBuilder();
        string? path = file ?? (File.Exists(InstalledFile) ? InstalledFile : null);
        if (path is not null)
        {
            if (!File.Exists(path)) throw new ArgumentException($"Configuration file '{path}' does not exist.");
            builder.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }
        if (environment is null) builder.AddEnvironmentVariables(EnvironmentPrefix);
        else builder.AddInMemoryCollection(environment.Where(kv => kv.Key.StartsWith(EnvironmentPrefix, StringComparison.Ordinal))
            .Select(kv => new KeyValuePair<string, string?>(kv.Key[EnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), kv.Value)));
        builder.AddInMemoryCollection(overrides);
        IConfigurationRoot config;
        try
        {
            config = builder.Build();
        }
        catch (Exception ex) when (ex is FormatException or InvalidDataException)
        {
            throw new ArgumentException($"Configuration file '{path}' is not valid JSON: {ex.Message}", ex);
        }
        EdgeOptions options;
        try
        {
            options = config.Get<EdgeOptions>(b => b.ErrorOnUnknownConfiguration = true) ?? new EdgeOptions();
            // The binder appends a configured array to the default one; a configured list replaces it.
            var configured = config.GetSection("Model:Providers").GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrEmpty(v)).Select(v => v!).ToArray();
            options = options with { Model = options.Model with { Providers = configured.Length > 0 ? configured : [.. ModelOptions.DefaultProviders] } };
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException($"Configuration{(path is null ? "" : $" ('{path}')")}: {ex.Message} Field names are listed in README, 'Configuration'.", ex);
        }
        var problems = EdgeOptionsValidator.Problems(options);
        if (problems.Count > 0)
            throw new ArgumentException($"Configuration{(path is null ? "" : $" ('{path}')")} has {problems.Count} problem(s):\n  " + string.Join("\n  ", problems));
        return options;
    }
}

using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace DANNet.Edge.Configuration;

/// <summary>
/// Checks the shape of a configuration against the options' types before binding: every key that is
/// not a setting and every value of the wrong type, all of them at once (the configuration binder stops
/// at the first). The keys found wrong are returned too, so that the rest can still be bound and
/// validated and the user hears of every problem in one run.
/// </summary>
public static class ConfigurationShape
{
    public static List<(string Key, string Problem)> Problems(IConfiguration config, IReadOnlyDictionary<string, Type> sections)
    {
        var problems = new List<(string, string)>();
        foreach (var (name, type) in sections)
        {
            if (DictionaryValue(type) is { } value)
            {
                // A map (Cameras): every entry is a section of the value's settings.
                foreach (var entry in config.GetSection(name).GetChildren())
                {
                    string key = $"{name}:{entry.Key}";
                    if (entry.Value is not null && !entry.GetChildren().Any())
                        problems.Add((key, $"{key} must be a section of settings ({string.Join(", ", value.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}), not a value."));
                    else Walk(entry, value, key, problems);
                }
            }
            else Walk(config.GetSection(name), type, name, problems);
        }
        return problems;
    }

    /// <summary>The value type of a string-keyed dictionary type, else null.</summary>
    private static Type? DictionaryValue(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>) && type.GetGenericArguments()[0] == typeof(string)
            ? type.GetGenericArguments()[1]
            : null;

    private static void Walk(IConfigurationSection section, Type type, string path, List<(string, string)> problems)
    {
        var settings = type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            string key = $"{path}:{child.Key}";
            if (!settings.TryGetValue(child.Key, out var setting))
            {
                problems.Add((key, $"{key} is not a setting; {path} has {string.Join(", ", settings.Keys)}."));
                continue;
            }
            var t = Nullable.GetUnderlyingType(setting.PropertyType) ?? setting.PropertyType;
            if (t.IsArray)
            {
                var items = child.GetChildren().ToList();
                if (items.Count == 0 && child.Value is not null)
                    problems.Add((key, $"{key} is empty: give at least one value (or leave the key out for the default)."));
                foreach (var item in items.Where(i => i.GetChildren().Any()))
                    problems.Add(($"{key}:{item.Key}", $"{key}:{item.Key} must be a value, not a section."));
                continue;
            }
            if (t == typeof(string) || t.IsPrimitive || t.IsEnum || t == typeof(decimal))
            {
                if (child.Value is null)
                {
                    problems.Add((key, $"{key} must be a value, not a section."));
                    continue;
                }
                if (t == typeof(string)) continue;
                try
                {
                    TypeDescriptor.GetConverter(t).ConvertFromInvariantString(child.Value);
                }
                catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException || ex.InnerException is FormatException or OverflowException)
                {
                    problems.Add((key, $"{key} '{child.Value}' is not {Describe(t)}."));
                }
                continue;
            }
            if (child.Value is not null && !child.GetChildren().Any())
            {
                problems.Add((key, $"{key} must be a section of settings ({string.Join(", ", t.GetProperties().Where(p => p.CanWrite).Select(p => p.Name))}), not a value."));
                continue;
            }
            Walk(child, t, key, problems);
        }
    }

    private static string Describe(Type t) => t switch
    {
        _ when t == typeof(bool) => "true or false",
        _ when t == typeof(int) || t == typeof(long) => "a whole number",
        _ when t == typeof(double) => "a number",
        _ when t.IsEnum => "one of " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant())),
        _ => "a " + t.Name,
    };

    /// <summary>The configuration's values without <paramref name="bad"/> keys (and what lies under them), to bind what is right.</summary>
    public static IConfiguration Without(IConfiguration config, IEnumerable<string> bad)
    {
        var excluded = bad.ToList();
        bool Excluded(string key) => excluded.Any(b => key.Equals(b, StringComparison.OrdinalIgnoreCase)
            || key.StartsWith(b + ":", StringComparison.OrdinalIgnoreCase));
        return new ConfigurationBuilder().AddInMemoryCollection(config.AsEnumerable().Where(kv => kv.Value is not null && !Excluded(kv.Key))).Build();
    }
}

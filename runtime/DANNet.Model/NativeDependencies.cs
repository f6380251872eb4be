using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace DANNet.Model;

/// <summary>
/// One row of <c>systemd/native-dependencies.tsv</c>: a shared library and the package that provides it. <see cref="Loaded"/>: required,
/// but opened with <c>dlopen</c> at run time (no NEEDED entry names it), so packaging adds it by this row alone.
/// </summary>
public sealed record NativeDependency(string Soname, string Package, bool Required, string UsedBy, bool Loaded = false);

/// <summary>
/// The native libraries the daemon cannot run without, checked before anything expensive (model,
/// ring): OpenCV's <c>libOpenCvSharpExtern.so</c> and ONNX Runtime's <c>libonnxruntime.so</c> are
/// loaded, and a failure becomes one line that names the library that is missing and the package
/// that provides it (<c>systemd/native-dependencies.tsv</c>, the list the .deb's Depends come from).
/// </summary>
public static partial class NativeDependencies
{
    private static readonly Lazy<IReadOnlyList<NativeDependency>> s_table = new(Load);

    /// <summary>The rows of <c>systemd/native-dependencies.tsv</c> (embedded in this assembly).</summary>
    public static IReadOnlyList<NativeDependency> Table => s_table.Value;

    /// <summary>
    /// Loads OpenCV's and ONNX Runtime's native libraries and looks for OpenSSL; throws <see cref="NativeDependencyException"/> naming what
    /// is missing.
    /// </summary>
    public static void Check()
    {
        Probe("OpenCV", "libOpenCvSharpExtern.so", () => Cv2.GetVersionString());
        Probe("ONNX Runtime", "libonnxruntime.so", () => OnnxRuntimeEnvironment.Instance.GetVersionString());
        CheckOpenSsl();
    }

    /// <summary>
    /// The sonames .NET's OpenSSL shim tries, newest first (<c>libSystem.Security.Cryptography.Native.OpenSsl.so</c>); with none of them
    /// the runtime aborts the process ("No usable version of libssl was found") at the first random number or hash — no exception to
    /// catch, so it is looked for before.
    /// </summary>
    internal static readonly string[] OpenSslSonames = ["libssl.so.3", "libssl.so.1.1", "libssl.so.1.0.2", "libssl.so.1.0.0", "libssl.so.10"];

    /// <summary>Throws <see cref="NativeDependencyException"/> when no OpenSSL .NET can use loads (Linux only; elsewhere .NET uses the system's own).</summary>
    public static void CheckOpenSsl()
    {
        if (!OperatingSystem.IsLinux()) return;
        Exception? first = null;
        foreach (string soname in OpenSslSonames)
        {
            try
            {
                NativeLibrary.Free(NativeLibrary.Load(soname));
                return;
            }
            catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
            {
                first ??= ex;
            }
        }
        var row = Table.First(r => r.Soname == OpenSslSonames[0]);
        string why = LoaderFailure().Match(first!.Message) is { Success: true } m ? m.Groups["why"].Value.Trim() : "not found";
        throw new NativeDependencyException($"OpenSSL cannot be loaded: {row.Soname} is missing ({why}): {InstallHint(row)}. " +
            ".NET's cryptography needs it (random file names, SHA-256) and aborts the process without it.", first);
    }

    private static void Probe(string component, string library, Func<string?> load)
    {
        try
        {
            load();
        }
        catch (Exception ex) when (ex is TypeInitializationException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            throw new NativeDependencyException(Explain(component, library, ex), ex);
        }
    }

    /// <summary>
    /// The one line for an exception that is a native library failing to load (a <see cref="DllNotFoundException"/>, usually inside the
    /// <see cref="TypeInitializationException"/> of the binding that loads it), as <see cref="Explain"/> words it; null for any other exception.
    /// Every command line reports such a failure with it (<see cref="CommandErrors"/>), not with a stack.
    /// </summary>
    public static string? Describe(Exception ex)
    {
        if (Chain(ex).OfType<DllNotFoundException>().FirstOrDefault() is not { } notFound) return null;
        var m = UnloadableLibrary().Match(notFound.Message);
        string name = m.Success ? m.Groups["lib"].Value : "a native library";
        var (component, library) = name switch
        {
            "OpenCvSharpExtern" => ("OpenCV", "libOpenCvSharpExtern.so"),
            "onnxruntime" => ("ONNX Runtime", "libonnxruntime.so"),
            _ => (name, name.EndsWith(".so", StringComparison.Ordinal) || name.Contains(".so.", StringComparison.Ordinal) ? name : $"lib{name}.so"),
        };
        return Explain(component, library, ex);
    }

    /// <summary>
    /// One line for a library that would not load: the dependency the loader names (the first
    /// <c>libX.so.N: reason</c> in the exception chain that is not <paramref name="library"/> itself),
    /// with its package from the table; else the library and the loader's reason.
    /// </summary>
    public static string Explain(string component, string library, Exception ex)
    {
        string text = string.Join("\n", Chain(ex).Select(e => e.Message));
        var failures = LoaderFailure().Matches(text).Select(m => (Soname: m.Groups["so"].Value, Reason: m.Groups["why"].Value.Trim())).ToList();
        var culprit = failures.FirstOrDefault(f => !f.Soname.Equals(library, StringComparison.Ordinal) && !f.Soname.StartsWith("libOpenCvSharpExtern", StringComparison.Ordinal)
            && !f.Soname.StartsWith("libonnxruntime", StringComparison.Ordinal));
        if (culprit.Soname is null)
        {
            string reason = failures.Count > 0 ? failures[0].Reason : Chain(ex).Last().Message.ReplaceLineEndings(" ");
            return $"{component}'s native library {library} cannot be loaded: {reason}. The program's folder is incomplete or built for another " +
                "machine: rebuild or reinstall it for this architecture (dannet-edge: the .deb, or systemd/install.sh).";
        }
        var row = Table.FirstOrDefault(r => r.Soname == culprit.Soname);
        string fix = row is null
            ? "install the package that provides it (apt-file search " + culprit.Soname + ")"
            : row.Required
                ? InstallHint(row)
                : $"it comes with {row.Package} ({row.UsedBy})";
        return $"{component}'s native library {library} cannot be loaded: {culprit.Soname} is missing ({culprit.Reason}): {fix}.";
    }

    /// <summary>What to do about a missing required library: its package, and where the list of them is.</summary>
    private static string InstallHint(NativeDependency row) =>
        $"install the package {row.Package} (apt-get install {row.Package}; the dannet-edge .deb depends on it, systemd/native-dependencies.tsv lists them all)";

    private static IEnumerable<Exception> Chain(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException) yield return e;
    }

    [GeneratedRegex(@"Unable to load (shared library|DLL) '(?<lib>[^']+)'")]
    private static partial Regex UnloadableLibrary();

    [GeneratedRegex(@"(?<so>lib[A-Za-z0-9_+.\-]*?\.so(\.[0-9]+)*): (?<why>[^:\n]*(: No such file or directory)?)")]
    private static partial Regex LoaderFailure();

    private static List<NativeDependency> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("native-dependencies.tsv")
            ?? throw new InvalidOperationException("native-dependencies.tsv is not embedded in DANNet.Model.");
        using var reader = new StreamReader(stream);
        var rows = new List<NativeDependency>();
        string? line;
        bool header = true;
        while ((line = reader.ReadLine()) is not null)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (header) { header = false; continue; }
            var f = line.Split('\t');
            if (f.Length != 4 || f[2] is not ("required" or "loaded" or "optional"))
                throw new InvalidDataException($"native-dependencies.tsv: '{line}' is not soname, package, required|loaded|optional, used by.");
            rows.Add(new NativeDependency(f[0], f[1], f[2] != "optional", f[3], Loaded: f[2] == "loaded"));
        }
        return rows;
    }
}

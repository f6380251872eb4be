using System.Reflection;

namespace DANNet.Trainer.IO;

/// <summary>This build's version with the git commit it was built from (when built in a git checkout): runs and exported models record it.</summary>
public static class CodeVersion
{
    public static string Current { get; } =
        typeof(CodeVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}

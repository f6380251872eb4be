using DANNet.Trainer.Torch;
using DANNet.Trainer.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// The rule of docs/conventions.md, checked on the compiled trainer: no TorchSharp scalar is left to
/// the finalizer while libtorch may read it — neither by our code nor inside a TorchSharp method we call.
/// </summary>
public sealed class NativeLifetimeTests
{
    private static readonly NativeLifetimeAudit Audit = new(typeof(torch).Assembly.Location);

    [Fact]
    public void No_scalar_is_left_to_the_finalizer_while_libtorch_may_read_it()
    {
        var findings = Audit.Audit(typeof(DannetTrainer).Assembly.Location);
        Assert.True(findings.Count == 0, $"{findings.Count} places break docs/conventions.md:\n" + string.Join("\n", findings));
    }

    /// <summary>
    /// Deliberate exceptions in the tests: places that must create TorchSharp's own modules because
    /// they are what is tested or compared against. (method prefix, what the finding says, why.)
    /// </summary>
    private static readonly (string Method, string Finding, string Why)[] Exempt =
    [
        ("DANNet.Trainer.Tests.Models.Layers.StableBatchNorm2dTests.", "creates TorchSharp.Modules.BatchNorm2d", "compares with TorchSharp's own BatchNorm2d"),
        ("DANNet.Trainer.Tests.Export.LayerEmitterTests.Build(", "creates TorchSharp.Modules.", "the emitters of TorchSharp's own layers are under test"),
    ];

    /// <summary>The tests run the same native code as training does: a freed scalar there is a flaky test.</summary>
    [Fact]
    public void The_tests_follow_the_rule_too()
    {
        var findings = Audit.Audit(typeof(NativeLifetimeTests).Assembly.Location, type => !type.EndsWith("+Violations", StringComparison.Ordinal))
            .Where(f => !Exempt.Any(e => f.Method.StartsWith(e.Method, StringComparison.Ordinal) && f.Problem.Contains(e.Finding, StringComparison.Ordinal)))
            .ToList();
        Assert.True(findings.Count == 0, $"{findings.Count} places break docs/conventions.md:\n" + string.Join("\n", findings));
    }

    [Fact]
    public void The_audit_finds_each_kind_of_violation()
    {
        var findings = Audit.Audit(typeof(NativeLifetimeTests).Assembly.Location, type => type.EndsWith("+Violations", StringComparison.Ordinal))
            .Select(f => f.ToString()).ToList();
        Assert.Contains(findings, f => f.Contains("Violations.ImplicitScalar(") && f.Contains("implicit conversion to TorchSharp.Scalar"));
        Assert.Contains(findings, f => f.Contains("Violations.ImplicitTensor(") && f.Contains("implicit conversion to TorchSharp.torch+Tensor"));
        Assert.Contains(findings, f => f.Contains("Violations.UnheldToScalar(") && f.Contains("without being held"));
        Assert.Contains(findings, f => f.Contains("Violations.PlainAddition(") && f.Contains("op_Addition"));
        Assert.Contains(findings, f => f.Contains("Violations.NumberTimesTensor(") && f.Contains("op_Multiply(Double"));
        Assert.Contains(findings, f => f.Contains("Violations.TorchSharpSgd(") && f.Contains("TorchSharp.Modules.SGD, whose step"));
        Assert.Contains(findings, f => f.Contains("Violations.LeakyReluModule(") && f.Contains("whose forward"));
        Assert.DoesNotContain(findings, f => f.Contains("Violations.Held("));
        Assert.Equal(7, findings.Count);
    }

    /// <summary>One method per kind of violation, and one that follows the rule.</summary>
    private static class Violations
    {
        public static Tensor ImplicitScalar(Tensor t) => t.mul(0.5);
        public static Tensor ImplicitTensor(Tensor c) => where(c, 1.0, 0.0);
        public static Tensor UnheldToScalar(Tensor t) => t.mul(0.5.ToScalar());
        public static Tensor PlainAddition(Tensor a, Tensor b) => a + b;
        public static Tensor NumberTimesTensor(Tensor t) => 2.0 * t;
        public static object TorchSharpSgd(IEnumerable<Parameter> p) => optim.SGD(p, 0.1);
        public static object LeakyReluModule() => nn.LeakyReLU(0.2);

        public static Tensor Held(Tensor a, Tensor b)
        {
            using var s = new ScalarScope();
            return a.mul(s[0.5]).Plus(b);
        }
    }
}

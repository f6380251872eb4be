using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace DANNet.Trainer.Tests.Training;

/// <summary>
/// Reads the IL of the trainer and of TorchSharp to find native objects that are left to the
/// finalizer while libtorch may still read them. A TorchSharp <c>Scalar</c> made by an implicit
/// conversion (<c>t * 0.5</c>, <c>add_(x, alpha: lr)</c>) is unreachable as soon as its handle is
/// passed to native code; a collection on any thread during the call finalizes it and libtorch
/// reads freed memory (garbage values, NaNs, "Unknown scalar type"). The audit finds
/// (1) implicit conversions to <c>Scalar</c> or <c>Tensor</c> in our code, (2) <c>ToScalar()</c>
/// results that are not stored (so not held, not disposed), and (3) calls from our code into
/// TorchSharp methods that make such a scalar inside them — found by following TorchSharp's own
/// calls (and delegates it builds) from each method we call, and the <c>forward</c> of each
/// TorchSharp module type we create.
/// </summary>
public sealed class NativeLifetimeAudit
{
    private static readonly Dictionary<ushort, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => unchecked((ushort)o.Value));

    private const string TensorType = "TorchSharp.torch+Tensor";
    private readonly ModuleIndex _torch;
    private readonly Dictionary<string, string?> _leakCache = [];

    public NativeLifetimeAudit(string torchSharpPath) => _torch = new ModuleIndex(torchSharpPath);

    /// <summary>One finding: where in our code, and what is wrong there.</summary>
    public sealed record Finding(string Method, string Problem)
    {
        public override string ToString() => $"{Method}: {Problem}";
    }

    /// <summary>Every finding in the assembly at <paramref name="path"/> (in the types <paramref name="types"/> accepts, by full name).</summary>
    public List<Finding> Audit(string path, Func<string, bool>? types = null)
    {
        var ours = new ModuleIndex(path);
        var findings = new List<Finding>();
        // Names our code calls virtually on TorchSharp objects (step, zero_grad, …), plus forward, which Module.call runs.
        var virtualNames = ours.Methods().SelectMany(ours.Calls)
            .Where(c => c.Op == ILOpCode.Callvirt && c.Target.DeclaringAssembly == "TorchSharp" && c.Target.DeclaringType != TensorType)
            .Select(c => c.Target.Name).Append("forward").ToHashSet();
        foreach (var method in ours.Methods())
        {
            if (types is not null && !types(ours.DeclaringTypeName(method))) continue;
            string where = ours.Describe(method);
            var calls = ours.Calls(method).ToList();
            for (int i = 0; i < calls.Count; i++)
            {
                var (op, target, next) = calls[i];
                if (target.IsImplicitNativeConversion)
                {
                    findings.Add(new Finding(where, $"implicit conversion to {target.DeclaringType} (use HeldScalars or a ScalarScope, see docs/conventions.md)"));
                    continue;
                }
                if (target.IsToScalar && !IsStore(next))
                {
                    findings.Add(new Finding(where, "ToScalar() result passed on without being held in a variable or field (it would be left to the finalizer)"));
                    continue;
                }
                if (target.DeclaringAssembly != "TorchSharp") continue;
                if (_torch.Resolve(target) is { } resolved && LeakPath(resolved, 0) is { } path1)
                    findings.Add(new Finding(where, $"calls {target.DeclaringType}.{target.Name}({target.Parameters}), which leaves a Scalar to the finalizer: {path1}"));
                // A TorchSharp object we create (new, or a factory such as nn.Conv2d(...) or optim.SGD(...))
                // runs its overrides later through virtual calls: forward, step, ….
                string? created = op == ILOpCode.Newobj ? target.DeclaringType : target.ReturnType;
                if (created is not null && created.StartsWith("TorchSharp.Modules.", StringComparison.Ordinal) && created != "TorchSharp.Modules.Parameter")
                    foreach (var name in virtualNames)
                        foreach (var overriding in _torch.FindMethods(created, name))
                            if (LeakPath(overriding, 0) is { } path2)
                                findings.Add(new Finding(where, $"creates {created}, whose {name} leaves a Scalar to the finalizer: {path2}"));
            }
        }
        return findings.Distinct().ToList();
    }

    /// <summary>Whether <paramref name="op"/> stores the value on the stack into a variable or field (so it is held).</summary>
    private static bool IsStore(ILOpCode? op) =>
        op is ILOpCode.Stloc or ILOpCode.Stloc_s or ILOpCode.Stloc_0 or ILOpCode.Stloc_1 or ILOpCode.Stloc_2 or ILOpCode.Stloc_3 or ILOpCode.Stsfld or ILOpCode.Stfld;

    /// <summary>The call chain from <paramref name="method"/> to a Scalar made and not disposed, or null.</summary>
    private string? LeakPath(MethodDefinitionHandle method, int depth)
    {
        string key = _torch.Describe(method);
        if (_leakCache.TryGetValue(key, out var cached)) return cached;
        _leakCache[key] = null; // cycles: assume clean while on the stack
        string? result = null;
        if (depth < 12)
        {
            var calls = _torch.Calls(method).ToList();
            // Inside TorchSharp only scalars count: an implicit Tensor there is what a method returns (ge(null) → false).
            bool makes = calls.Any(c => c.Target is { IsImplicitNativeConversion: true, ReturnType: "TorchSharp.Scalar" } || c.Target.IsToScalar);
            bool disposes = calls.Any(c => c.Target.IsScalarDispose);
            if (makes && !disposes) result = key;
            else
                foreach (var (_, target, _) in calls)
                {
                    if (target.DeclaringAssembly != "TorchSharp" || _torch.Resolve(target) is not { } inner) continue;
                    if (target.DeclaringType is "TorchSharp.Scalar" or "TorchSharp.ScalarExtensionMethods") continue;
                    if (LeakPath(inner, depth + 1) is { } chain) { result = key + " → " + chain; break; }
                }
        }
        _leakCache[key] = result;
        return result;
    }

    /// <summary>A call target: its declaring assembly and type, name, and the type it returns when that is a TorchSharp type.</summary>
    private sealed record Target(string DeclaringAssembly, string DeclaringType, string Name, string? ReturnType, string Parameters)
    {
        public bool IsImplicitNativeConversion => Name == "op_Implicit" && DeclaringAssembly == "TorchSharp"
            && DeclaringType is "TorchSharp.Scalar" or TensorType && ReturnType is "TorchSharp.Scalar" or TensorType;
        public bool IsToScalar => Name == "ToScalar" && DeclaringType == "TorchSharp.ScalarExtensionMethods";
        public bool IsScalarDispose => Name == "Dispose" && DeclaringType == "TorchSharp.Scalar";
    }

    /// <summary>Method bodies and call targets of one assembly, read with System.Reflection.Metadata.</summary>
    private sealed class ModuleIndex
    {
        private readonly MetadataReader _md;
        private readonly PEReader _pe;
        private readonly string _assembly;
        private readonly Dictionary<string, List<MethodDefinitionHandle>> _byTypeAndName = [];

        public ModuleIndex(string path)
        {
            _pe = new PEReader(File.OpenRead(path));
            _md = _pe.GetMetadataReader();
            _assembly = _md.GetString(_md.GetAssemblyDefinition().Name);
            foreach (var h in _md.MethodDefinitions)
            {
                var m = _md.GetMethodDefinition(h);
                string key = TypeName(m.GetDeclaringType()) + "::" + _md.GetString(m.Name);
                if (!_byTypeAndName.TryGetValue(key, out var list)) _byTypeAndName[key] = list = [];
                list.Add(h);
            }
        }

        public IEnumerable<MethodDefinitionHandle> Methods() => _md.MethodDefinitions;

        public string DeclaringTypeName(MethodDefinitionHandle h) => TypeName(_md.GetMethodDefinition(h).GetDeclaringType());

        /// <summary>Type.name(parameter types): unique among overloads.</summary>
        public string Describe(MethodDefinitionHandle h)
        {
            var m = _md.GetMethodDefinition(h);
            var parameters = m.DecodeSignature(new TypeNames(this), null).ParameterTypes;
            return $"{TypeName(m.GetDeclaringType())}.{_md.GetString(m.Name)}({string.Join(",", parameters)})";
        }

        public IEnumerable<MethodDefinitionHandle> FindMethods(string type, string name)
        {
            // forward is usually declared on the module type itself; follow base types named in this assembly.
            for (string? t = type; t is not null; t = BaseTypeOf(t))
                if (_byTypeAndName.TryGetValue(t + "::" + name, out var list))
                    return list;
            return [];
        }

        private string? BaseTypeOf(string type)
        {
            foreach (var h in _md.TypeDefinitions)
                if (TypeName(h) == type)
                {
                    var b = _md.GetTypeDefinition(h).BaseType;
                    return b.IsNil ? null : EntityTypeName(b);
                }
            return null;
        }

        /// <summary>The method in this assembly a call target names (by type, name and parameter types).</summary>
        public MethodDefinitionHandle? Resolve(Target target)
        {
            if (!_byTypeAndName.TryGetValue(target.DeclaringType + "::" + target.Name, out var list)) return null;
            foreach (var h in list)
                if (string.Join(",", _md.GetMethodDefinition(h).DecodeSignature(new TypeNames(this), null).ParameterTypes) == target.Parameters)
                    return h;
            return null;
        }

        /// <summary>Each call, newobj or ldftn in the method's body, with the opcode that follows it.</summary>
        public IEnumerable<(ILOpCode Op, Target Target, ILOpCode? Next)> Calls(MethodDefinitionHandle h)
        {
            var def = _md.GetMethodDefinition(h);
            if (def.RelativeVirtualAddress == 0) yield break;
            var il = _pe.GetMethodBody(def.RelativeVirtualAddress).GetILReader();
            (ILOpCode Op, Target Target)? pending = null;
            while (il.RemainingBytes > 0)
            {
                ushort value = il.ReadByte();
                if (value == 0xFE) value = (ushort)(0xFE00 | il.ReadByte());
                var op = (ILOpCode)value;
                if (pending is { } p) { yield return (p.Op, p.Target, op); pending = null; }
                if (!OpCodesByValue.TryGetValue(value, out var code)) throw new InvalidDataException($"{Describe(h)}: unknown opcode 0x{value:X} at IL offset {il.Offset}");
                switch (code.OperandType)
                {
                    case OperandType.InlineMethod:
                        var handle = MetadataTokens.EntityHandle(il.ReadInt32());
                        if (op is ILOpCode.Call or ILOpCode.Callvirt or ILOpCode.Newobj or ILOpCode.Ldftn or ILOpCode.Ldvirtftn && Describe(handle) is { } t)
                            pending = (op, t);
                        break;
                    case OperandType.InlineNone: break;
                    case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.Offset += 1; break;
                    case OperandType.InlineVar: il.Offset += 2; break;
                    case OperandType.InlineI8 or OperandType.InlineR: il.Offset += 8; break;
                    case OperandType.InlineSwitch: int targets = il.ReadInt32(); il.Offset += 4 * targets; break;
                    default: il.Offset += 4; break;
                }
            }
            if (pending is { } last) yield return (last.Op, last.Target, null);
        }

        private Target? Describe(EntityHandle handle)
        {
            switch (handle.Kind)
            {
                case HandleKind.MethodDefinition:
                {
                    var m = _md.GetMethodDefinition((MethodDefinitionHandle)handle);
                    var sig = m.DecodeSignature(new TypeNames(this), null);
                    return new Target(_assembly, TypeName(m.GetDeclaringType()), _md.GetString(m.Name), sig.ReturnType, string.Join(",", sig.ParameterTypes));
                }
                case HandleKind.MemberReference:
                {
                    var r = _md.GetMemberReference((MemberReferenceHandle)handle);
                    if (r.GetKind() != MemberReferenceKind.Method) return null;
                    var sig = r.DecodeMethodSignature(new TypeNames(this), null);
                    return new Target(AssemblyOf(r.Parent), EntityTypeName(r.Parent), _md.GetString(r.Name), sig.ReturnType, string.Join(",", sig.ParameterTypes));
                }
                case HandleKind.MethodSpecification:
                    return Describe(_md.GetMethodSpecification((MethodSpecificationHandle)handle).Method);
                default:
                    return null;
            }
        }

        private string AssemblyOf(EntityHandle parent)
        {
            switch (parent.Kind)
            {
                case HandleKind.TypeReference:
                    var scope = _md.GetTypeReference((TypeReferenceHandle)parent).ResolutionScope;
                    return scope.Kind switch
                    {
                        HandleKind.AssemblyReference => _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name),
                        HandleKind.TypeReference => AssemblyOf((TypeReferenceHandle)scope),
                        _ => _assembly,
                    };
                case HandleKind.TypeSpecification:
                    // GENERICINST (CLASS|VALUETYPE) TypeDefOrRef …: the generic type's own assembly.
                    var reader = _md.GetBlobReader(_md.GetTypeSpecification((TypeSpecificationHandle)parent).Signature);
                    if (reader.ReadByte() != 0x15) return _assembly;
                    reader.ReadByte();
                    return AssemblyOf(reader.ReadTypeHandle());
                default:
                    return _assembly;
            }
        }

        internal string EntityTypeName(EntityHandle h) => h.Kind switch
        {
            HandleKind.TypeDefinition => TypeName((TypeDefinitionHandle)h),
            HandleKind.TypeReference => TypeName((TypeReferenceHandle)h),
            HandleKind.TypeSpecification => _md.GetTypeSpecification((TypeSpecificationHandle)h).DecodeSignature(new TypeNames(this), null),
            _ => "?",
        };

        internal string TypeName(TypeDefinitionHandle h)
        {
            var t = _md.GetTypeDefinition(h);
            var declaring = t.GetDeclaringType();
            string name = _md.GetString(t.Name);
            return declaring.IsNil ? Qualified(_md.GetString(t.Namespace), name) : TypeName(declaring) + "+" + name;
        }

        internal string TypeName(TypeReferenceHandle h)
        {
            var t = _md.GetTypeReference(h);
            string name = _md.GetString(t.Name);
            return t.ResolutionScope.Kind == HandleKind.TypeReference
                ? TypeName((TypeReferenceHandle)t.ResolutionScope) + "+" + name
                : Qualified(_md.GetString(t.Namespace), name);
        }

        private static string Qualified(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

        /// <summary>Type names for signatures; generic instances keep their generic type's name.</summary>
        private sealed class TypeNames(ModuleIndex index) : ISignatureTypeProvider<string, object?>
        {
            public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
            public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => index.TypeName(handle);
            public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => index.TypeName(handle);
            public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => index.EntityTypeName(handle);
            public string GetSZArrayType(string elementType) => elementType + "[]";
            public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";
            public string GetByReferenceType(string elementType) => elementType + "&";
            public string GetPointerType(string elementType) => elementType + "*";
            public string GetPinnedType(string elementType) => elementType;
            public string GetGenericInstantiation(string genericType, System.Collections.Immutable.ImmutableArray<string> typeArguments) => genericType;
            public string GetGenericTypeParameter(object? genericContext, int index1) => "!" + index1;
            public string GetGenericMethodParameter(object? genericContext, int index1) => "!!" + index1;
            public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";
            public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;
            public string GetTypeFromSerializedName(string name) => name;
        }
    }
}

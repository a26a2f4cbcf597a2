using System.Reflection;

namespace KneeOnnx.Tests;

/// <summary>The inference side must run where no training stack exists: no TorchSharp anywhere in its assemblies or projects.</summary>
public class InferenceIsolationTests
{
    [Fact]
    public void InferenceAssembliesDoNotReferenceTorchSharp()
    {
        foreach (var assembly in new[] { typeof(KneeOnnx.Generation.ImageGenerator).Assembly, typeof(KneeOnnx.Cli.KneeOnnxCli).Assembly })
        {
            var seen = new HashSet<string>();
            var pending = new Stack<AssemblyName>([assembly.GetName()]);
            while (pending.Count > 0)
            {
                var name = pending.Pop();
                if (!seen.Add(name.Name!) || name.Name!.StartsWith("System") || name.Name.StartsWith("Microsoft.") || name.Name == "netstandard") continue;
                Assert.DoesNotContain("TorchSharp", name.Name, StringComparison.OrdinalIgnoreCase);
                foreach (var reference in Assembly.Load(name).GetReferencedAssemblies()) pending.Push(reference);
            }
        }
    }

    [Fact]
    public void InferenceProjectsReferenceNeitherTorchSharpNorTraining()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "KneeOnnx.sln"))) root = Path.GetDirectoryName(root)!;
        var projects = Directory.GetFiles(Path.Combine(root, "inference"), "*.csproj", SearchOption.AllDirectories);
        Assert.NotEmpty(projects);
        foreach (var project in projects)
        {
            string text = File.ReadAllText(project);
            Assert.DoesNotContain("Include=\"TorchSharp", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Include=\"libtorch", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("training/", text.Replace('\\', '/'), StringComparison.OrdinalIgnoreCase);
        }
    }
}

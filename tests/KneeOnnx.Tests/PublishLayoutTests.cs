using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace KneeOnnx.Tests;

/// <summary>
/// A linux-x64 publish of kneeonnx-gen must not carry the Windows DLLs that Microsoft.ML.OnnxRuntime.Gpu.Windows's
/// props add to every output. A real publish takes minutes and 300 MB, so this evaluates the package's own props file
/// together with build/OnnxRuntimeWindowsDlls.targets in a bare MSBuild project (no SDK, no restore): the items the
/// package asks to copy, after our target ran, per runtime identifier.
/// </summary>
public class PublishLayoutTests
{
    [Fact]
    public void LinuxTargetDropsTheWindowsDllsThatWindowsTargetKeeps()
    {
        string root = RepoRoot();
        string props = OnnxRuntimeWindowsProps(root);
        using var temp = new Fixtures.TempDirectory();
        string project = Path.Combine(temp.Path, "probe.proj");
        File.WriteAllText(project, $"""
            <Project>
              <PropertyGroup><PlatformTarget>x64</PlatformTarget></PropertyGroup>
              <Import Project="{props}" />
              <Import Project="{Path.Combine(root, "build", "OnnxRuntimeWindowsDlls.targets")}" />
            </Project>
            """);

        var windows = CopiedDlls(project, "win-x64");
        var linux = CopiedDlls(project, "linux-x64");

        // The reference is the package itself: for a Windows target it still copies its DLLs, CUDA provider included.
        Assert.Contains("onnxruntime.dll", windows);
        Assert.Contains("onnxruntime_providers_cuda.dll", windows);
        Assert.Empty(linux);
    }

    private static List<string> CopiedDlls(string project, string rid)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "msbuild", project, "-nologo", "-nodeReuse:false", "-t:KneeOnnxDropWindowsNativeDlls", "-getItem:None", $"-p:RuntimeIdentifier={rid}" })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        string json = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"dotnet msbuild failed for {rid}: {json} {errors.Result}");
        using var doc = JsonDocument.Parse(json);
        var names = new List<string>();
        if (doc.RootElement.GetProperty("Items").TryGetProperty("None", out var items))
            foreach (var item in items.EnumerateArray())
            {
                string name = Path.GetFileName(item.GetProperty("Identity").GetString()!.Replace('\\', '/'));
                if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) names.Add(name);
            }
        return names;
    }

    private static string OnnxRuntimeWindowsProps(string root)
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string central = File.ReadAllText(Path.Combine(root, "Directory.Packages.props"));
        string version = Regex.Match(central, "Include=\"Microsoft.ML.OnnxRuntime.Gpu\" Version=\"([^\"]+)\"").Groups[1].Value;
        string props = Path.Combine(packages, "microsoft.ml.onnxruntime.gpu.windows", version, "buildTransitive", "netstandard2.0",
            "Microsoft.ML.OnnxRuntime.Gpu.Windows.props");
        Assert.True(File.Exists(props), $"{props}: not found (the restore of the test project brings it)");
        return props;
    }

    private static string RepoRoot()
    {
        string root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "KneeOnnx.sln"))) root = Path.GetDirectoryName(root)!;
        return root;
    }
}

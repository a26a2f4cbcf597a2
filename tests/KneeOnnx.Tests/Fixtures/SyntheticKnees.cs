using KneeOnnx.Randomness;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace KneeOnnx.Tests.Fixtures;

/// <summary>
/// Small made-up "knee" images: two bright bone masses separated by a dark joint gap that narrows as the grade
/// rises, plus deterministic noise. Enough structure for a network to learn from, made in code so the core suite
/// needs no real data.
/// </summary>
public static class SyntheticKnees
{
    public static byte[] Pixels(int grade, int index, int side)
    {
        var rng = SplitMix64.For(12345, grade, index);
        var pixels = new byte[side * side];
        double gap = side * (0.16 - 0.028 * grade);
        double centre = side / 2.0 + (rng.NextDouble() - 0.5) * side * 0.1;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++)
            {
                double dx = (x - side / 2.0) / (side * 0.35);
                bool bone = Math.Abs(y - centre) > gap / 2 && dx * dx < 1;
                double value = (bone ? 190 : 50) + (rng.NextDouble() - 0.5) * 30;
                pixels[y * side + x] = (byte)Math.Clamp(value, 0, 255);
            }
        return pixels;
    }

    /// <summary>Writes <c>root/split/g/*.png</c> for every grade, <paramref name="perGrade"/> images each.</summary>
    public static string WriteDataset(string root, int perGrade, int side = 40, string split = "train", int firstIndex = 0)
    {
        for (int g = 0; g < KlGrades.Count; g++)
        {
            string dir = Path.Combine(root, split, g.ToString());
            Directory.CreateDirectory(dir);
            for (int i = firstIndex; i < firstIndex + perGrade; i++)
                WritePng(Path.Combine(dir, $"{9000000 + g * 1000 + i}{(i % 2 == 0 ? 'L' : 'R')}.png"), Pixels(g, i, side), side);
        }
        return root;
    }

    public static void WritePng(string path, byte[] gray, int side)
    {
        using var image = Image.LoadPixelData<L8>(gray, side, side);
        image.SaveAsPng(path);
    }

    /// <summary>Images already in model space, for tests that skip the disk.</summary>
    public static (float[][] Images, int[] Grades) InMemory(int perGrade, int side)
    {
        var images = new List<float[]>();
        var grades = new List<int>();
        for (int g = 0; g < KlGrades.Count; g++)
            for (int i = 0; i < perGrade; i++)
            {
                images.Add(Pixels(g, i, side).Select(Imaging.PixelScale.ToModel).ToArray());
                grades.Add(g);
            }
        return (images.ToArray(), grades.ToArray());
    }
}

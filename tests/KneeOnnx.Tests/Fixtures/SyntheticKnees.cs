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

    /// <summary>
    /// A knee with a side: <see cref="Pixels"/> plus a bright "fibular head" in a lower corner, on the image's right for a
    /// left knee and on its left for a right knee, so a horizontal flip turns one side into the other, as in a PA radiograph.
    /// </summary>
    public static byte[] SidedPixels(int grade, int index, int side, int kneeSide)
    {
        var pixels = Pixels(grade, index, side);
        int size = Math.Max(2, side / 6), y0 = side - size - side / 10;
        // In the dark margin beside the bone, where it stands out most.
        int x0 = kneeSide == KneeSides.Left ? side - size : 0;
        for (int y = y0; y < y0 + size; y++)
            for (int x = x0; x < x0 + size; x++)
                pixels[y * side + x] = 250;
        return pixels;
    }

    /// <summary>The side of image <c>i</c> in the sided fixtures: even indexes left, odd right (as the file names of <see cref="WriteDataset"/>).</summary>
    public static int SideOf(int index) => index % 2 == 0 ? KneeSides.Left : KneeSides.Right;

    public static int[] SideOfIndex(int count) => Enumerable.Range(0, count).Select(SideOf).ToArray();

    /// <summary>Sided images in model space; image i has side <see cref="SideOf"/>(i).</summary>
    public static (float[][] Images, int[] Grades) SidedInMemory(int perGrade, int side)
    {
        var images = new List<float[]>();
        var grades = new List<int>();
        for (int g = 0; g < KlGrades.Count; g++)
            for (int i = 0; i < perGrade; i++)
            {
                images.Add(SidedPixels(g, i, side, SideOf(images.Count)).Select(Imaging.PixelScale.ToModel).ToArray());
                grades.Add(g);
            }
        return (images.ToArray(), grades.ToArray());
    }

    /// <summary>Writes <c>root/split/g/*.png</c> of sided knees, named like the real data (<c>…L.png</c>, <c>…R.png</c>).</summary>
    public static string WriteSidedDataset(string root, int perGrade, int side = 32, string split = "train", int firstIndex = 0)
    {
        for (int g = 0; g < KlGrades.Count; g++)
        {
            string dir = Path.Combine(root, split, g.ToString());
            Directory.CreateDirectory(dir);
            for (int i = firstIndex; i < firstIndex + perGrade; i++)
                WritePng(Path.Combine(dir, $"{9000000 + g * 1000 + i}{KneeSides.Names[SideOf(i)]}.png"), SidedPixels(g, i, side, SideOf(i)), side);
        }
        return root;
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

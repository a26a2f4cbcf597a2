using KneeOnnx.Training.Runs;

namespace KneeOnnx.Tests;

public class LearningRateScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenDecaysByCosineToTheFloor()
    {
        Assert.Equal(0.1e-3, LearningRateSchedule.At(0, 1e-3, 10, 110, 0.1), 12);
        Assert.Equal(1e-3, LearningRateSchedule.At(9, 1e-3, 10, 110, 0.1), 12);
        Assert.Equal(1e-3, LearningRateSchedule.At(10, 1e-3, 10, 110, 0.1), 12);
        // Halfway through the decay the cosine is at the midpoint between peak and floor.
        Assert.Equal(0.55e-3, LearningRateSchedule.At(60, 1e-3, 10, 110, 0.1), 12);
        Assert.Equal(0.1e-3, LearningRateSchedule.At(110, 1e-3, 10, 110, 0.1), 12);
        Assert.Equal(0.1e-3, LearningRateSchedule.At(500, 1e-3, 10, 110, 0.1), 12);
    }

    [Fact]
    public void NeverRisesAfterWarmUp()
    {
        double previous = double.MaxValue;
        for (int s = 20; s < 1000; s++)
        {
            double lr = LearningRateSchedule.At(s, 2e-4, 20, 1000, 0.1);
            Assert.True(lr <= previous);
            previous = lr;
        }
    }
}

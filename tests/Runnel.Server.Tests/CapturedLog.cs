using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Runnel.Server.Tests;

/// <summary>Keeps what an in-process server logs, for tests that assert it said something (or nothing bad).</summary>
public sealed class CapturedLog : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _entries = new();

    public IReadOnlyCollection<(LogLevel Level, string Category, string Message)> Entries => _entries;

    /// <summary>Every entry at <paramref name="level"/> or above, one per line.</summary>
    public string AtLeast(LogLevel level) => string.Join('\n', _entries.Where(e => e.Level >= level).Select(e => $"{e.Level} {e.Category}: {e.Message}"));

    /// <summary>For <c>RunnelServer.Create(..., logging: log.Install)</c>.</summary>
    public void Install(ILoggingBuilder builder) => builder.AddProvider(this);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLog owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}

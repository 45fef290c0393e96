using Runnel.DynamoDb.Model;
using Runnel.DynamoDb.Service;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// What the expression parsers share: the tokens, document paths and operands, and AWS's errors. A syntax error
/// stops the parse at once ("Syntax error; token: …, near: …"); the semantic errors (an undefined #name or :value, a
/// reserved word, a wrong operand) are collected and the most important one is reported once the syntax is known
/// good, in the order AWS reports them. Not thread-safe: one per expression.
/// </summary>
internal abstract class ExpressionParser
{
    // Semantic errors by precedence: the lowest is reported.
    protected const int UnknownFunction = 0, MisusedFunction = 1, Reserved = 2, Undefined = 3, Operands = 4, Distinct = 5, OperandType = 6, Section = 7, Overlap = 8;

    private readonly List<Token> _tokens;
    private readonly string _text;
    private readonly string _kind;
    private readonly SortedDictionary<int, string> _errors = [];
    private int _position;

    protected ExpressionParser(string text, string kind, ExpressionContext context)
    {
        if (text.Length == 0)
            throw DynamoDbErrors.Validation($"Invalid {kind}: The expression can not be empty;");
        _text = text;
        _kind = kind;
        Context = context;
        _tokens = Lexer.Split(text);
    }

    protected ExpressionContext Context { get; }

    protected Token Peek(int ahead = 0) => _tokens[Math.Min(_position + ahead, _tokens.Count - 1)];

    protected Token Next() => _tokens[Math.Min(_position++, _tokens.Count - 1)];

    protected int Position
    {
        get => _position;
        set => _position = value;
    }

    protected bool AtEnd => Peek().Kind == TokenKind.End;

    protected void Expect(string symbol)
    {
        if (!Peek().Is(symbol))
            throw SyntaxError();
        Next();
    }

    /// <summary>The syntax error at the current token, with the text around it as AWS shows it.</summary>
    protected SyntaxException SyntaxError()
    {
        var token = Peek();
        var previous = _position > 0 ? _tokens[Math.Min(_position, _tokens.Count) - 1] : token;
        int start = token.Kind == TokenKind.End && _position > 1 ? _tokens[_position - 2].Start : previous.Start;
        string near = _text[start..Math.Max(start, token.End)];
        return new SyntaxException($"Syntax error; token: \"{token.Shown}\", near: \"{near}\"");
    }

    protected void Report(int precedence, string message) => _errors.TryAdd(precedence, message);

    /// <summary>Runs a parse, turning its failures into AWS's ValidationException "Invalid {kind}: …".</summary>
    protected T Run<T>(Func<T> parse)
    {
        T result;
        try
        {
            result = parse();
            if (!AtEnd)
                throw SyntaxError();
        }
        catch (SyntaxException e)
        {
            throw DynamoDbErrors.Validation($"Invalid {_kind}: {e.Message}");
        }
        if (_errors.Count > 0)
            throw DynamoDbErrors.Validation($"Invalid {_kind}: {_errors.First().Value}");
        return result;
    }

    /// <summary><c>a.b[1].#c</c>: names resolved, reserved words reported.</summary>
    protected DocumentPath ParsePath()
    {
        var elements = new List<PathElement> { new(ParseName(), 0) };
        while (true)
        {
            if (Peek().Is("."))
            {
                Next();
                elements.Add(new PathElement(ParseName(), 0));
            }
            else if (Peek().Is("["))
            {
                Next();
                var index = Next();
                if (index.Kind != TokenKind.Number)
                {
                    Position--;
                    throw SyntaxError();
                }
                Expect("]");
                elements.Add(new PathElement(null, int.TryParse(index.Text, out int i) ? i : int.MaxValue));
            }
            else
                return new DocumentPath(elements);
        }
    }

    private string ParseName()
    {
        var token = Peek();
        if (token.Kind == TokenKind.Name)
        {
            Next();
            string? name = Context.Name(token.Text);
            if (name is null)
                Report(Undefined, $"An expression attribute name used in the document path is not defined; attribute name: {token.Text}");
            return name ?? token.Text;
        }
        if (token.Kind != TokenKind.Identifier || IsKeyword(token))
            throw SyntaxError();
        Next();
        if (ReservedWords.Contains(token.Text))
            Report(Reserved, $"Attribute name is a reserved keyword; reserved keyword: {token.Text}");
        return token.Text;
    }

    /// <summary>Words that are the grammar's own in this kind of expression (never a name).</summary>
    protected virtual bool IsKeyword(Token token) =>
        token.IsKeyword("AND") || token.IsKeyword("OR") || token.IsKeyword("NOT") || token.IsKeyword("BETWEEN") || token.IsKeyword("IN");

    protected ValueOperand ParseValue()
    {
        var token = Next();
        var value = Context.Value(token.Text);
        if (value is null)
            Report(Undefined, $"An expression attribute value used in expression is not defined; attribute value: {token.Text}");
        return new ValueOperand(token.Text, value ?? AttributeValue.Null);
    }

    /// <summary>An operand: a function call, a :value or a path, optionally in parentheses.</summary>
    protected Operand ParseOperand()
    {
        var token = Peek();
        if (token.Is("("))
        {
            Next();
            var inner = ParseOperand();
            Expect(")");
            return inner;
        }
        if (token.Kind == TokenKind.Value)
            return ParseValue();
        if (token.Kind == TokenKind.Identifier && Peek(1).Is("(") && !IsKeyword(token))
            return ParseFunction();
        if (token.Kind is TokenKind.Identifier or TokenKind.Name)
            return new PathOperand(ParsePath());
        throw SyntaxError();
    }

    /// <summary><c>name(operand, …)</c>; which names exist and what they take is the caller's to check.</summary>
    protected FunctionOperand ParseFunction()
    {
        string name = Next().Text;
        Expect("(");
        var arguments = new List<Operand> { ParseOperand() };
        while (Peek().Is(","))
        {
            Next();
            arguments.Add(ParseOperand());
        }
        Expect(")");
        return new FunctionOperand(name, arguments);
    }

    protected static string? TypeOf(Operand operand) => operand is ValueOperand v ? v.Value.Type.ToString() : null;

    /// <summary>Refuses paths that overlap (one a prefix of another) or conflict (one steps into a list, the other a map).</summary>
    protected void CheckOverlaps(IReadOnlyList<DocumentPath> paths)
    {
        for (int i = 0; i < paths.Count; i++)
            for (int j = 0; j < i; j++)
            {
                var (one, two) = (paths[j], paths[i]);
                int shared = Math.Min(one.Elements.Count, two.Elements.Count);
                int k = 0;
                for (; k < shared; k++)
                {
                    var (a, b) = (one.Elements[k], two.Elements[k]);
                    if (a.IsIndex != b.IsIndex)
                    {
                        Report(Overlap + 1, $"Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}");
                        break;
                    }
                    if (a != b)
                        break;
                }
                if (k == shared)
                    Report(Overlap, $"Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}");
            }
    }

    protected sealed class SyntaxException(string message) : Exception(message);
}

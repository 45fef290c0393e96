namespace Runnel.DynamoDb.Expressions;

internal enum TokenKind
{
    Identifier, // a name or a keyword (AND, OR, NOT, BETWEEN, IN, SET, REMOVE, ADD, DELETE)
    Name, // #name
    Value, // :value
    Number, // digits (a list index)
    Symbol, // ( ) [ ] . , = <> < <= > >= + -
    End,
    Invalid,
}

internal readonly record struct Token(TokenKind Kind, string Text, int Start)
{
    public int End => Start + Text.Length;

    public bool Is(string symbol) => Kind == TokenKind.Symbol && Text == symbol;

    public bool IsKeyword(string keyword) => Kind == TokenKind.Identifier && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);

    /// <summary>As AWS's syntax errors show it.</summary>
    public string Shown => Kind == TokenKind.End ? "<EOF>" : Text;
}

/// <summary>Splits an expression into tokens. Whitespace separates; anything unknown is an Invalid token that the parser reports.</summary>
internal static class Lexer
{
    public static List<Token> Split(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }
            int start = i;
            if (c is '#' or ':' || IsWordStart(c))
            {
                i++;
                while (i < text.Length && IsWordPart(text[i]))
                    i++;
                var kind = c == '#' ? TokenKind.Name : c == ':' ? TokenKind.Value : TokenKind.Identifier;
                tokens.Add(new Token(kind, text[start..i], start));
            }
            else if (c is >= '0' and <= '9')
            {
                while (i < text.Length && text[i] is >= '0' and <= '9')
                    i++;
                tokens.Add(new Token(TokenKind.Number, text[start..i], start));
            }
            else if (c is '<' or '>' && i + 1 < text.Length && (text[i + 1] == '=' || (c == '<' && text[i + 1] == '>')))
            {
                tokens.Add(new Token(TokenKind.Symbol, text.Substring(i, 2), start));
                i += 2;
            }
            else if (c is '(' or ')' or '[' or ']' or '.' or ',' or '=' or '<' or '>' or '+' or '-')
            {
                tokens.Add(new Token(TokenKind.Symbol, c.ToString(), start));
                i++;
            }
            else
            {
                tokens.Add(new Token(TokenKind.Invalid, c.ToString(), start));
                i++;
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }

    private static bool IsWordStart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_';

    private static bool IsWordPart(char c) => IsWordStart(c) || c is >= '0' and <= '9';
}

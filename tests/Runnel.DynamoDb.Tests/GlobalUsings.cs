// An item (and a key, and a map's members): attribute names to values, in the order they were given.
global using Item = System.Collections.Generic.Dictionary<string, Runnel.DynamoDb.Model.AttributeValue>;

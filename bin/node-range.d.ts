export declare const NODE_RANGE: string;
export declare function satisfies(version: string, range?: string): boolean;

NAME = 'gitdep'

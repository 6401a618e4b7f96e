NAME = 'member'
